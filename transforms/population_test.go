package transforms

import (
	"strings"
	"testing"
)

// TestPathTiers: with decisions by population, sure identifiers and
// names are replaced, lexical segments kept, and everything else is a
// candidate, written as it is until Admit says whether k visitors used it.
// The statistics' page is the path as the shape alone decides it.
func TestPathTiers(t *testing.T) {
	w := newTestAnonymizer(t, Config{SafeSegments: []string{"Impressum"}}).NewWorker()
	w.Population = true
	for _, c := range []struct {
		target string
		held   string // the path with its candidates as they are
		denied string // Admit(0): every candidate replaced
		page   string // Record.Page: as the shape decides
	}{
		// Tier 1: replaced however common.
		{"/unsubscribe/jane.doe@example.com", "/unsubscribe/{email}", "", ""},
		{"/users/jdoe/settings", "/users/{name}/settings", "", ""},
		{"/reset/9f86d081884c7d659a2feaa0c55ad015", "/reset/{token}", "", ""},
		{"/login/magic/apple-river-stone", "/login/{token}/{token}", "", ""},
		{"/patient-portal/john-smith", "/patient-portal/{name}", "", ""},
		{"/team/maria-garcia-lopez", "/team/{name}", "", ""},
		{"/u/~jdoe", "/u/~{name}", "", ""},
		// Tier 2: lexical, kept.
		{"/blog/how-to-bake-bread", "/blog/how-to-bake-bread", "", ""},
		{"/2024/11/hello-world", "/2024/11/hello-world", "", ""},
		{"/wp-content/uploads/2024/05/logo.png", "/wp-content/uploads/2024/05/logo.png", "", ""},
		{"/de/ueber-uns/kontakt", "/de/ueber-uns/kontakt", "", ""},
		{"/Impressum", "/Impressum", "", ""},
		{"/page/2", "/page/2", "", ""},
		// Tier 3: candidates.
		{"/account/orders/12345", "/account/orders/12345", "/account/orders/{id}", "/account/orders/{id}"},
		{"/img/12345.jpg", "/img/12345.jpg", "/img/{id}.jpg", "/img/{id}.jpg"},
		{"/invoices/inv-2514/receipt", "/invoices/inv-2514/receipt", "/invoices/{slug}/receipt", "/invoices/inv-2514/receipt"},
		{"/c/x7k-9q2-zz4", "/c/x7k-9q2-zz4", "/c/{code}", "/c/{code}"},
		{"/wiki/Main_Page", "/wiki/Main_Page", "/wiki/{name}", "/wiki/{name}"},
		{"/blog/zorblax-quuxification", "/blog/zorblax-quuxification", "/blog/{slug}", "/blog/zorblax-quuxification"},
		{"/p/b-12-hx7/42", "/p/b-12-hx7/42", "/p/{slug}/42", "/p/b-12-hx7/42"},
	} {
		if c.denied == "" {
			c.denied, c.page = c.held, c.held
		}
		if err := w.Process([]byte(combined("1.2.3.4", c.target, "-", "-"))); err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		r := &w.Rec
		if string(r.Path) != c.held {
			t.Errorf("%s: held path %q, want %q", c.target, r.Path, c.held)
		}
		if string(r.Page()) != c.page {
			t.Errorf("%s: statistics' page %q, want %q", c.target, r.Page(), c.page)
		}
		held := string(r.Path)
		n := len(r.Candidates())
		if (n > 0) != (c.held != c.denied) {
			t.Errorf("%s: %d candidates", c.target, n)
		}
		saved := r.cands
		r.Admit(0, nil)
		if string(r.Path) != c.denied {
			t.Errorf("%s: not admitted: %q, want %q", c.target, r.Path, c.denied)
		}
		r.Path, r.cands = []byte(held), saved
		r.Admit(1<<n-1, nil)
		if string(r.Path) != c.held {
			t.Errorf("%s: admitted: %q, want %q", c.target, r.Path, c.held)
		}
	}
	// Without decisions by population the shape alone decides, as before.
	w.Population = false
	if err := w.Process([]byte(combined("1.2.3.4", "/account/orders/12345", "-", "-"))); err != nil {
		t.Fatal(err)
	}
	if got := string(w.Rec.Path); got != "/account/orders/{id}" || len(w.Rec.Candidates()) != 0 {
		t.Errorf("without population: %q, %d candidates", got, len(w.Rec.Candidates()))
	}
}

// TestAdmitSome: candidates are replaced one by one, each by its own bit.
func TestAdmitSome(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	w.Population = true
	if err := w.Process([]byte(combined("1.2.3.4", "/a/12345/b/x7k-9q2-zz4/c/777.pdf", "-", "-"))); err != nil {
		t.Fatal(err)
	}
	if n := len(w.Rec.Candidates()); n != 3 {
		t.Fatalf("%d candidates in %q", n, w.Rec.Path)
	}
	w.Rec.Admit(0b101, nil)
	if got := string(w.Rec.Path); got != "/a/12345/b/{code}/c/777.pdf" {
		t.Fatalf("admitted 1 and 3: %q", got)
	}
}

// TestCandidatesBounded: a path of many candidates notes MaxCandidates of
// them; the rest are replaced at once.
func TestCandidatesBounded(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	w.Population = true
	target := strings.Repeat("/12345", MaxCandidates+3)
	if err := w.Process([]byte(combined("1.2.3.4", target, "-", "-"))); err != nil {
		t.Fatal(err)
	}
	if n := len(w.Rec.Candidates()); n != MaxCandidates {
		t.Fatalf("%d candidates", n)
	}
	want := strings.Repeat("/12345", MaxCandidates) + strings.Repeat("/{id}", 3)
	if got := string(w.Rec.Path); got != want {
		t.Fatalf("path %q, want %q", got, want)
	}
}

// TestLexical: the lexicon's judgements of whole segments.
func TestLexical(t *testing.T) {
	for seg, want := range map[string][2]bool{ // ok, name
		"how-to-bake-bread":        {true, false},
		"contact":                  {true, false},
		"kontakt":                  {true, false},
		"style.min.css":            {true, false},
		"john-smith":               {false, true},
		"jennifer-smith-interview": {false, true},
		"green-tea":                {true, false},
		"12-hauptstrasse":          {false, false},
		"5-rue-de-la-paix":         {false, false},
		"size-wool-1553":           {false, false},
		"zorblax":                  {false, false},
		"top-10-tips-for-2025":     {true, false},
		"chapter-one-the-journey":  {true, false},
		"summer-sale-2024":         {true, false},
	} {
		ok, name, _ := lexical([]byte(seg), nil, nil)
		if ok != want[0] || name != want[1] {
			t.Errorf("lexical(%q) = %v, %v; want %v, %v", seg, ok, name, want[0], want[1])
		}
	}
}

// TestPersonalSlugsNeedPopulation: values that name or locate a person
// but pass as route-like by shape are never kept as lexical: each is
// replaced or waits for k visitors (a candidate).
func TestPersonalSlugsNeedPopulation(t *testing.T) {
	w := newTestAnonymizer(t, Config{}).NewWorker()
	w.Population = true
	for _, target := range []string{
		"/patient-portal/anna-kowalski", "/invoices/inv-2514/jennifer-lopez.pdf", "/home/jdoe/notes",
		"/ref/mmueller", "/plates/b-ab-1234", "/plates/ka-mx-482", "/passport/x4821937", "/geo/u33dc0",
		"/move/12-hauptstrasse", "/livraison/5-rue-de-la-paix", "/lieferung/hauptstrasse-12",
		"/%E7%94%A8%E6%88%B7/%E5%BC%A0%E4%BC%9F", "/профиль/иван-петров", "/profil/γιώργος-παπαδόπουλος",
		"/blog/size-wool-1553",
	} {
		if err := w.Process([]byte(combined("1.2.3.4", target, "-", "-"))); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		r := &w.Rec
		saved := r.cands
		held := append([]byte(nil), r.Path...)
		r.Admit(0, nil)
		if strings.Count(string(r.Path), "{") == strings.Count(target, "{") {
			t.Errorf("%s: written %q without population (held %q)", target, r.Path, held)
		}
		r.cands = saved
	}
}

// TestSearchNames: a given name followed by a surname in search terms is
// {name}, wherever it stands; other words stay.
func TestSearchNames(t *testing.T) {
	w := newTestAnonymizer(t, Config{SearchTermsInEvents: true}).NewWorker()
	for q, want := range map[string]string{
		"hiv+test+john+smith":                     "hiv test {name}",
		"Maria+Garcia":                            "{name}",
		"red+running+shoes":                       "red running shoes",
		"summer+sale":                             "summer sale",
		"anna+kowalski+and+jennifer+lopez+clinic": "{name} and {name} clinic",
	} {
		if err := w.Process([]byte(combined("1.2.3.4", "/search?q="+q, "-", "-"))); err != nil {
			t.Fatal(err)
		}
		if got := string(w.Rec.SearchTerms); got != want {
			t.Errorf("q=%s: %q, want %q", q, got, want)
		}
	}
}
