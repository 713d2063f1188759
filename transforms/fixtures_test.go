package transforms

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Networks in the fixtures. 81.2.69.0/25 and 81.2.69.128/25 sit in one /24
// with different countries, so a lookup on the truncated address would give
// the wrong answer for 81.2.69.200.
var fixtureNets = []struct {
	cidr, country, continent string
	asn                      uint32
	org                      string
}{
	{"81.2.69.0/25", "GB", "EU", 20712, "Andrews & Arnold Ltd"},
	{"81.2.69.128/25", "FR", "EU", 3215, "Orange S.A."},
	{"89.160.20.0/24", "SE", "EU", 29518, "Bredband2 AB"},
	{"2a02:cf40::/29", "NO", "EU", 29695, "Altibox AS"},
	{"2001:480::/32", "US", "NA", 668, "DoD Network Information Center"},
	{"216.160.83.0/24", "US", "NA", 209, "Qwest"},
}

func writeMMDB(t testing.TB, dbType string, rec func(i int) mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range fixtureNets {
		_, ipnet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(ipnet, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// geoip2CountryDB writes a GeoLite2-Country-schema fixture.
func geoip2CountryDB(t testing.TB) string {
	return writeMMDB(t, "GeoLite2-Country", func(i int) mmdbtype.Map {
		n := fixtureNets[i]
		return mmdbtype.Map{
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(n.country), "names": mmdbtype.Map{"en": mmdbtype.String("x")}},
			"continent": mmdbtype.Map{"code": mmdbtype.String(n.continent)},
		}
	})
}

// countryCodeDB writes an ip-location-db-schema fixture (single country_code).
func countryCodeDB(t testing.TB) string {
	return writeMMDB(t, "geo-whois-asn-country", func(i int) mmdbtype.Map {
		return mmdbtype.Map{"country_code": mmdbtype.String(fixtureNets[i].country)}
	})
}

func asnDB(t testing.TB) string {
	return writeMMDB(t, "GeoLite2-ASN", func(i int) mmdbtype.Map {
		n := fixtureNets[i]
		return mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(n.asn),
			"autonomous_system_organization": mmdbtype.String(n.org),
		}
	})
}

// withDefaults fills the fields a test leaves zero from Default, so that a
// test names only what it sets.
func withDefaults(c Config) Config {
	v, d := reflect.ValueOf(&c).Elem(), reflect.ValueOf(Default())
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	return c
}

// testPolicy is cfg (defaults where zero) resolved.
func testPolicy(t testing.TB, cfg Config) Policy {
	t.Helper()
	p, err := withDefaults(cfg).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newTestAnonymizer(t testing.TB, cfg Config) *Anonymizer {
	t.Helper()
	a, err := NewAnonymizer(testPolicy(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
