package demo

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/transforms"
)

// TestDemoCountryDB: every address loggen can draw has a country from the
// table, in about the table's proportions, and logveil reads the file as a
// country database of the ip-location-db schema.
func TestDemoCountryDB(t *testing.T) {
	path, err := writeCountryDB(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if g, err := transforms.OpenCountryDB(path); err != nil || g.Type != databaseType {
		t.Fatalf("OpenCountryDB: %v", err)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	known := map[string]bool{}
	for _, c := range countries {
		known[c.code] = true
	}
	count := map[string]int{}
	lookup := func(a string) {
		var rec struct {
			CountryCode string `maxminddb:"country_code"`
		}
		if err := r.Lookup(netip.MustParseAddr(a)).Decode(&rec); err != nil || !known[rec.CountryCode] {
			t.Fatalf("%s: country %q, %v", a, rec.CountryCode, err)
		}
		count[rec.CountryCode]++
	}
	for o := 1; o <= 222; o++ {
		if o != 10 && o != 127 {
			lookup(fmt.Sprintf("%d.7.1.2", o)) // x.7: outside the reserved parts of 100/8, 172/8, 192/8
		}
	}
	for _, n := range loggen.IPv6Networks {
		lookup(fmt.Sprintf("%x:%x:9a3::1", n.Prefix>>16, n.Prefix&0xffff))
	}
	if len(count) < 12 || count["DE"] <= count["JP"] || count["US"] <= count["IS"] {
		t.Errorf("countries not spread by weight: %v", count)
	}
}
