package stats

import (
	"bytes"
	"testing"
)

func TestHitRoundTrip(t *testing.T) {
	w := saltedWorker(t)
	for _, line := range genLines(2000, 21) {
		if w.Process(line) != nil {
			continue
		}
		var h, got Hit
		h.FromRecord(&w.Rec)
		enc := AppendHit(nil, &h)
		if _, err := ParseHit(w.Rec.Pseudonym, enc, &got, nil); err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if !hitsEqual(&h, &got) {
			t.Fatalf("round trip of %s:\n got %+v\nwant %+v", line, got, h)
		}
	}
}

func TestHitEscapes(t *testing.T) {
	h := Hit{Source: []byte("raw/1"), Offset: 77, Visitor: 0x0123456789abcdef, HasVisitor: true, Time: -5, Status: 404, Bytes: -1, Page: []byte("/a\tb\\c\nd"), Search: []byte("x\\"), Country: []byte("DE"),
		Host: []byte("shop\texample"), UTMCampaign: []byte("a\\b"), Rung: 3}
	enc := AppendHit(nil, &h)
	if bytes.Count(enc, []byte("\t")) != 21 || bytes.Contains(enc, []byte("\n")) {
		t.Fatalf("encoding %q", enc)
	}
	var got Hit
	if _, err := ParseHit([]byte("0123456789abcdef0123"), enc, &got, nil); err != nil || !hitsEqual(&h, &got) {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestHitErrors(t *testing.T) {
	const rest = "r/0\t5\t1\t0\t200\t5\tDE\tFirefox\tLinux\tdesktop\t(direct)\t/"
	for _, c := range []struct {
		value string
		err   error
	}{
		{"", ErrHitVersion},
		{"h5\t" + rest + "\t", ErrHitVersion},
		{"h4\t0123456789abcdef\t" + rest + "\t\tshop.example\tcrawler\tGooglebot\tnews\temail\tspring\t3", nil},
		{"h4\t0123456789abcdef\t" + rest + "\t\tshop.example\tcrawler\tGooglebot\tnews\temail\tspring\t11", ErrHitNumber}, // no such rung
		{"h4\t0123456789abcdef\t" + rest + "\t\tshop.example\tcrawler\tGooglebot\tnews\temail\tspring", ErrHitFields},     // h3's fields only
		{"h3\t0123456789abcdef\t" + rest + "\t", ErrHitFields},                                                            // h2's fields only
		{"h3\t0123456789abcdef\t" + rest + "\t\tshop.example\tcrawler\tGooglebot\tnews\temail\tspring", nil},
		{"h1\t" + rest, ErrHitFields},
		{"h1\t" + rest + "\t\t", ErrHitFields},
		{"h1\tr/0\t5\tx\t0\t200\t5\tDE\tFirefox\tLinux\tdesktop\t(direct)\t/\t", ErrHitNumber},
		{"h1\t" + rest + "\t", nil},
		{"h2\t0123456789abcdef\t" + rest + "\t", nil},
		{"h2\t\t" + rest + "\t", nil}, // no visitor
		{"h2\tnot-hex-at-all!!\t" + rest + "\t", ErrHitNumber},
		{"h2\t0123456789abcdef", ErrHitFields},
		{"h2\t0123456789abcdef\t" + rest, ErrHitFields},
	} {
		var h Hit
		if _, err := ParseHit(nil, []byte(c.value), &h, nil); err != c.err {
			t.Errorf("%q: %v, want %v", c.value, err, c.err)
		}
	}
}

func hitsEqual(a, b *Hit) bool {
	return bytes.Equal(a.Source, b.Source) && a.Offset == b.Offset && a.Time == b.Time && a.Bot == b.Bot && a.Status == b.Status && a.Bytes == b.Bytes && a.Visitor == b.Visitor &&
		a.HasVisitor == b.HasVisitor && bytes.Equal(a.Page, b.Page) && bytes.Equal(a.Referrer, b.Referrer) &&
		bytes.Equal(a.Search, b.Search) && bytes.Equal(a.Country, b.Country) && bytes.Equal(a.Browser, b.Browser) &&
		bytes.Equal(a.OS, b.OS) && bytes.Equal(a.Device, b.Device) && bytes.Equal(a.Host, b.Host) &&
		bytes.Equal(a.Traffic, b.Traffic) && bytes.Equal(a.Crawler, b.Crawler) && bytes.Equal(a.UTMSource, b.UTMSource) &&
		bytes.Equal(a.UTMMedium, b.UTMMedium) && bytes.Equal(a.UTMCampaign, b.UTMCampaign) && a.Rung == b.Rung
}

// FuzzHit: any value either fails to parse or re-encodes to itself once
// normalised.
func FuzzHit(f *testing.F) {
	f.Add([]byte("h2\t0123456789abcdef\tr/0\t5\t1\t0\t200\t5\tDE\tFirefox\tLinux\tdesktop\t(direct)\t/a\\tb\tq"))
	f.Fuzz(func(t *testing.T, value []byte) {
		var h, again Hit
		if _, err := ParseHit(nil, value, &h, nil); err != nil {
			return
		}
		enc := AppendHit(nil, &h)
		if _, err := ParseHit(nil, enc, &again, nil); err != nil || !hitsEqual(&h, &again) {
			t.Fatalf("%q -> %q: %v", value, enc, err)
		}
	})
}
