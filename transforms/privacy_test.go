package transforms

import (
	"bytes"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/piicorpus"
)

// survives reports whether a planted value can still be read in out: as
// written, in any case, as the digits of a long number whatever the
// separators, by its parts (a surname, an email's local part, the address
// inside a host name).
func survives(p piicorpus.Plant, out []byte) bool {
	low := bytes.ToLower(out)
	v := strings.ToLower(p.Value)
	if bytes.Contains(low, []byte(v)) {
		return true
	}
	var parts []string
	switch p.Category {
	case piicorpus.FullName:
		parts = strings.Fields(v)
	case piicorpus.Email:
		parts = []string{v[:strings.IndexByte(v, '@')]}
	case piicorpus.Geo:
		parts = strings.FieldsFunc(strings.TrimSuffix(strings.TrimPrefix(v, "@"), ",17z"), func(r rune) bool { return r == ',' || r == ' ' })
	case piicorpus.HostWithIP:
		label := v[:strings.IndexByte(v, '.')]
		parts = []string{strings.TrimPrefix(strings.TrimPrefix(label, "ec2-"), label[:strings.IndexByte(label, '-')+1])}
	case piicorpus.Street:
		f := strings.Fields(v)
		parts = []string{f[0] + " " + f[1]} // the house number with the street
	}
	for _, part := range parts {
		if len(part) >= 4 && bytes.Contains(low, []byte(part)) {
			return true
		}
	}
	switch p.Category {
	case piicorpus.PhoneIntl, piicorpus.PhoneNat, piicorpus.Card, piicorpus.IBAN, piicorpus.NationalID,
		piicorpus.IMEI, piicorpus.IPv4Decimal, piicorpus.GAClientID, piicorpus.BirthDate:
		d := digitsOf(v)
		if len(d) >= 7 {
			for _, run := range numberRuns(out) {
				if strings.Contains(run, d) {
					return true
				}
			}
		}
	}
	return false
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// numberRuns returns the digits of every run of digits and number
// separators in out.
func numberRuns(out []byte) []string {
	var runs []string
	var cur strings.Builder
	for _, c := range append(out, 0) {
		switch {
		case c >= '0' && c <= '9':
			cur.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '+':
		default:
			if cur.Len() > 0 {
				runs = append(runs, cur.String())
				cur.Reset()
			}
		}
	}
	return runs
}

// TestPlantedIdentifiersCorpus is the default-deny property: identifiers
// of every category (internal/piicorpus), planted in every field of every
// input format, in lines that parse and lines that do not, read with the
// right format, auto-detection and a wrong format, never survive in the
// JSON event, the rewritten line or the rejected line.
func TestPlantedIdentifiersCorpus(t *testing.T) {
	base := Config{CountryDB: geoip2CountryDB(t), ASNDB: asnDB(t), TrustedProxies: []string{"10.0.0.0/8"}}
	worker := func(format string) *Worker {
		c := base
		c.InputFormat = format
		return newTestAnonymizer(t, c).NewWorker()
	}
	auto := worker("auto")
	byFormat := map[string]*Worker{}
	wrong := map[bool]*Worker{true: worker("combined"), false: worker("json")}
	gen := piicorpus.New(11)
	seen := map[piicorpus.Category]int{}
	parsed, rejected := 0, 0
	for i := 0; i < 4000; i++ {
		l := gen.Line()
		if i%4 == 3 {
			l = gen.BrokenLine()
		}
		if byFormat[l.Format] == nil {
			byFormat[l.Format] = worker(l.Format)
		}
		for _, w := range []*Worker{byFormat[l.Format], auto, wrong[l.Format == "json"]} {
			var outs [][]byte
			if err := w.Process([]byte(l.Text)); err != nil {
				outs = append(outs, w.AppendRedactedLine(nil, []byte(l.Text)))
				rejected++
			} else {
				outs = append(outs, w.AppendJSON(nil, &w.Rec, nil), w.AppendLine(nil, &w.Rec))
				parsed++
			}
			for _, out := range outs {
				for _, p := range l.Plants {
					if survives(p, out) {
						t.Fatalf("%s %q planted in %s survived\nformat: %s\n  in: %s\n out: %s", p.Category, p.Value, p.Field, l.Format, l.Text, out)
					}
				}
				checkNoHostBits(t, l.Text, out, 24, 32)
			}
		}
		for _, p := range l.Plants {
			seen[p.Category]++
		}
	}
	for _, c := range piicorpus.All {
		if seen[c] < 20 {
			t.Errorf("category %s planted only %d times", c, seen[c])
		}
	}
	if parsed < 3000 || rejected < 3000 {
		t.Errorf("parsed %d, rejected %d: the corpus no longer exercises both paths", parsed, rejected)
	}
}

// TestSearchTermsInEventsScrubbed: with search_terms_in_events on, the
// categories the classifier recognises in free text never survive in the
// event's search_terms.
func TestSearchTermsInEventsScrubbed(t *testing.T) {
	w := newTestAnonymizer(t, Config{SearchTermsInEvents: true}).NewWorker()
	gen := piicorpus.New(12)
	for i := 0; i < 3000; i++ {
		l := gen.Line()
		if l.Format != "combined" || l.Broken {
			continue
		}
		if err := w.Process([]byte(l.Text)); err != nil {
			t.Fatal(err)
		}
		out := w.AppendJSON(nil, &w.Rec, nil)
		for _, p := range l.Plants {
			if p.Field == "search" && survives(p, out) {
				t.Fatalf("%s %q survived in search terms\n in: %s\nout: %s", p.Category, p.Value, l.Text, out)
			}
		}
	}
}
