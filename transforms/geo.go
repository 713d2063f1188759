package transforms

import (
	"fmt"
	"strings"
	"net/netip"

	geoip2 "github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoDB is an opened MaxMind-format database. Lookups go through
// maxminddb-golang (the reader under geoip2-golang) so that results can be
// cached by data-record offset: a database has far fewer distinct records than
// addresses, so after warm-up a lookup decodes nothing and allocates nothing.
// Records are decoded with geoip2-golang's models.
type GeoDB struct {
	r      *maxminddb.Reader
	schema geoSchema
	Type   string // database_type from the metadata
}

type geoSchema uint8

const (
	schemaGeoIP2      geoSchema = iota // country.iso_code, continent.code
	schemaCountryCode                  // a single country_code (ip-location-db)
	schemaASN                          // autonomous_system_number/_organization
)

// geoip2Types are the database_type values whose records follow the GeoIP2
// Country/City schema (the list geoip2-golang accepts for Country lookups).
var geoip2Types = map[string]bool{
	"DBIP-City-Lite": true, "DBIP-Country-Lite": true, "DBIP-Country": true,
	"DBIP-Location (compat=City)": true, "GeoLite2-City": true, "GeoIP-City-Redacted-US": true,
	"GeoIP2-City": true, "GeoIP2-City-Africa": true, "GeoIP2-City-Asia-Pacific": true,
	"GeoIP2-City-Europe": true, "GeoIP2-City-North-America": true, "GeoIP2-City-South-America": true,
	"GeoIP2-Precision-City": true, "GeoLite2-Country": true, "GeoIP2-Country": true,
	"DBIP-ISP (compat=Enterprise)": true, "DBIP-Location-ISP (compat=Enterprise)": true,
	"GeoIP-Enterprise-Redacted-US": true, "GeoIP2-Enterprise": true,
}

// OpenCountryDB opens a country (or city) database; which schema its records
// use is decided from the metadata's database_type.
func OpenCountryDB(path string) (*GeoDB, error) {
	g, err := openGeo(path)
	if err != nil {
		return nil, err
	}
	switch {
	case geoip2Types[g.Type]:
		g.schema = schemaGeoIP2
	case isASNType(g.Type):
		g.r.Close()
		return nil, fmt.Errorf("country database %s: database_type %q is an ASN database", path, g.Type)
	default:
		g.schema = schemaCountryCode
	}
	return g, nil
}

// OpenASNDB opens an ASN database (GeoLite2-ASN schema).
func OpenASNDB(path string) (*GeoDB, error) {
	g, err := openGeo(path)
	if err != nil {
		return nil, err
	}
	if geoip2Types[g.Type] {
		g.r.Close()
		return nil, fmt.Errorf("asn database %s: database_type %q is a country/city database", path, g.Type)
	}
	g.schema = schemaASN
	return g, nil
}

// isASNType: "GeoLite2-ASN", "DBIP-ASN-Lite", ip-location-db's "...-asn",
// but not "geo-whois-asn-country", a country database.
func isASNType(t string) bool {
	t = strings.ToLower(t)
	return strings.Contains(t, "asn") && !strings.Contains(t, "country") && !strings.Contains(t, "city")
}

func openGeo(path string) (*GeoDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", path, err)
	}
	return &GeoDB{r: r, Type: r.Metadata.DatabaseType}, nil
}

// Close releases the database's memory map.
func (g *GeoDB) Close() error {
	if g == nil {
		return nil
	}
	return g.r.Close()
}

type countryInfo struct{ country, continent string }

type asnInfo struct {
	asn uint32
	org string
}

// geoCacheMax bounds a worker's per-database cache (City databases have
// hundreds of thousands of records); a full cache is cleared and refilled.
const geoCacheMax = 1 << 16

func (g *GeoDB) country(a netip.Addr, cache map[uintptr]countryInfo) countryInfo {
	res := g.r.Lookup(a)
	if !res.Found() {
		return countryInfo{country: CountryUnknown}
	}
	off := res.Offset()
	if ci, ok := cache[off]; ok {
		return ci
	}
	var ci countryInfo
	switch g.schema {
	case schemaGeoIP2:
		var rec geoip2.Country
		if res.Decode(&rec) == nil {
			ci.country, ci.continent = rec.Country.ISOCode, rec.Continent.Code
			if ci.country == "" {
				ci.country = rec.RegisteredCountry.ISOCode
			}
		}
	case schemaCountryCode:
		var rec struct {
			CountryCode string `maxminddb:"country_code"`
		}
		if res.Decode(&rec) == nil {
			ci.country = rec.CountryCode
		}
	}
	if ci.country == "" {
		ci.country = CountryUnknown
	}
	if len(cache) >= geoCacheMax {
		clear(cache)
	}
	cache[off] = ci
	return ci
}

func (g *GeoDB) asn(a netip.Addr, cache map[uintptr]asnInfo) asnInfo {
	res := g.r.Lookup(a)
	if !res.Found() {
		return asnInfo{}
	}
	off := res.Offset()
	if ai, ok := cache[off]; ok {
		return ai
	}
	var rec geoip2.ASN
	var ai asnInfo
	if res.Decode(&rec) == nil {
		ai = asnInfo{asn: uint32(rec.AutonomousSystemNumber), org: rec.AutonomousSystemOrganization}
	}
	if len(cache) >= geoCacheMax {
		clear(cache)
	}
	cache[off] = ai
	return ai
}

// isPrivate reports addresses no database places: the policy maps them to
// CountryPrivate.
func isPrivate(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsLinkLocalMulticast() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")
