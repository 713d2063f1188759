package demo

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/logveil/logveil/internal/loggen"
)

// countries spread the demo's generated address space over countries in
// rough proportion to a European shop's traffic. The assignment is made up:
// it lets the demo run the country lookup and the country statistics without
// a database to download. Real data comes from --geoip.
var countries = []struct {
	code   string
	weight int
}{
	{"DE", 18}, {"US", 16}, {"GB", 11}, {"FR", 9}, {"NL", 7}, {"ES", 6}, {"IT", 6}, {"PL", 5},
	{"SE", 4}, {"AT", 3}, {"CH", 3}, {"BE", 3}, {"CA", 3}, {"IN", 2}, {"BR", 2}, {"JP", 1}, {"IS", 1}, {"DK", 1},
}

// databaseType names the demo table in the database's metadata, so an
// event's country can be told apart from a real database's in a support
// question; its records use ip-location-db's single country_code schema.
const databaseType = "logveil-demo-country"

// writeCountryDB writes the made-up table to dir and returns its path.
// IPv4 is assigned by /8 (loggen draws the first octet from 1..222); loggen's
// IPv6 networks keep the country the RIRs gave them.
func writeCountryDB(dir string) (string, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: databaseType, RecordSize: 24, IPVersion: 6,
		Description: map[string]string{"en": "logveil demo: a made-up country table for generated traffic"}})
	if err != nil {
		return "", err
	}
	total := 0
	for _, c := range countries {
		total += c.weight
	}
	// pick maps 0..255 onto the weighted list, so a /8 lands in a country
	// with about its weight's probability.
	pick := func(n int) string {
		// Spread consecutive numbers apart so no country owns a long run.
		slot := (n * 97) % 256 * total / 256
		for _, c := range countries {
			if slot < c.weight {
				return c.code
			}
			slot -= c.weight
		}
		return countries[0].code
	}
	insert := func(cidr, code string) error {
		_, ipnet, err := net.ParseCIDR(cidr)
		if err != nil {
			return err
		}
		return tree.Insert(ipnet, mmdbtype.Map{"country_code": mmdbtype.String(code)})
	}
	for o := 1; o <= 223; o++ {
		if o == 10 || o == 127 {
			continue // private and loopback: logveil marks them before any lookup
		}
		if err := insert(fmt.Sprintf("%d.0.0.0/8", o), pick(o)); err != nil {
			return "", err
		}
	}
	for _, n := range loggen.IPv6Networks {
		if err := insert(fmt.Sprintf("%x:%x::/32", n.Prefix>>16, n.Prefix&0xffff), n.Country); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "demo-country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
