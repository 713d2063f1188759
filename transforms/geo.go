package transforms

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

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
	// Warning, when set, is something odd about the file that does not
	// stop it being used (see verify).
	Warning string
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
	if err := g.verify(path); err != nil {
		g.r.Close()
		return nil, err
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
	if err := g.verify(path); err != nil {
		g.r.Close()
		return nil, err
	}
	return g, nil
}

// verify walks the whole search tree and decodes every record once (a
// country database has a few hundred: 0.1 s for ip-location-db's file),
// so that a damaged file — junk before it, bytes flipped in its tree or
// its data — is refused when it is opened rather than answering ZZ for
// every address. The reader's own Verify wants metadata fields that
// ip-location-db's files do not have. A database in which none of a few
// well-known public addresses has a record is odd but not refused: it
// is noted in Warning.
func (g *GeoDB) verify(path string) error {
	damaged := func(what string, err error) error {
		return fmt.Errorf("database %s is damaged (%s: %v); download it again (logveil fetch-geoip) or check the file", path, what, err)
	}
	seen := map[uintptr]bool{}
	networks := 0
	for res := range g.r.Networks() {
		if err := res.Err(); err != nil {
			return damaged("search tree", err)
		}
		networks++
		if off := res.Offset(); !seen[off] {
			seen[off] = true
			if err := g.checkRecord(res); err != nil {
				return damaged("record", err)
			}
		}
	}
	if networks == 0 {
		g.Warning = fmt.Sprintf("database %s has no networks: every address will be ZZ", path)
		return nil
	}
	found := 0
	for _, a := range knownPublic {
		if res := g.r.Lookup(a); res.Err() != nil {
			return damaged("lookup", res.Err())
		} else if res.Found() {
			found++
		}
	}
	if found == 0 {
		g.Warning = fmt.Sprintf("database %s has no record for any of %d well-known public addresses (8.8.8.8, 1.1.1.1, …): is it the right file?", path, len(knownPublic))
	}
	return nil
}

// knownPublic are addresses every country or ASN database places.
var knownPublic = []netip.Addr{
	netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("9.9.9.9"),
	netip.MustParseAddr("208.67.222.222"), netip.MustParseAddr("2001:4860:4860::8888"), netip.MustParseAddr("2606:4700:4700::1111"),
}

// checkRecord decodes a record with the schema's type and checks its
// codes are codes.
func (g *GeoDB) checkRecord(res maxminddb.Result) error {
	code := func(c string) error {
		if c == "" || len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' {
			return nil
		}
		return fmt.Errorf("country code %q", c)
	}
	switch g.schema {
	case schemaGeoIP2:
		var rec geoip2.Country
		if err := res.Decode(&rec); err != nil {
			return err
		}
		return errors.Join(code(rec.Country.ISOCode), code(rec.RegisteredCountry.ISOCode))
	case schemaCountryCode:
		var rec struct {
			CountryCode string `maxminddb:"country_code"`
		}
		if err := res.Decode(&rec); err != nil {
			return err
		}
		return code(rec.CountryCode)
	default:
		var rec geoip2.ASN
		return res.Decode(&rec)
	}
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
	asn     uint32
	org     string
	json    []byte // the event's asn fields, encoded once
	hosting bool   // a hosting or cloud provider's network (hostingASNs)
}

// geoCacheMax bounds each map of a worker's cache (City databases have
// hundreds of thousands of records); a full map is cleared and refilled.
const geoCacheMax = 1 << 16

// geoCache is one worker's cache for one database, in two levels:
//   - by truncated network: when the database's network for an address is no
//     more specific than the configured prefix, every address of that prefix
//     has the same record, so the answer is cached under the prefix logveil
//     keeps anyway (no full address is held);
//   - by data-record offset, so a record is decoded once.
type geoCache[T any] struct {
	bits4, bits6 int
	v4           map[uint32]T
	v6           map[uint64]T
	byOffset     map[uintptr]T
}

// geoLookup is the enrich step: the country and the network provider of
// the full address, from the databases (shared) through the worker's
// caches.
type geoLookup struct {
	country, asn *GeoDB // nil: none
	countries    *geoCache[countryInfo]
	networks     *geoCache[asnInfo]
}

func newGeoLookup(country, asn *GeoDB, bits4, bits6 int) geoLookup {
	return geoLookup{country: country, asn: asn, countries: newGeoCache[countryInfo](bits4, bits6), networks: newGeoCache[asnInfo](bits4, bits6)}
}

// enrich sets r's country, continent and network provider from the full
// address a; it reports whether a is in a hosting network.
func (g *geoLookup) enrich(a netip.Addr, r *Record) (hosting bool) {
	private := isPrivate(a)
	switch {
	case private:
		r.Country = CountryPrivate
	case g.country != nil:
		ci := g.country.country(a, g.countries)
		r.Country, r.Continent = ci.country, ci.continent
	default:
		r.Country = CountryUnknown
	}
	if g.asn != nil && !private {
		ai := g.asn.asn(a, g.networks)
		r.ASN, r.ASOrg, r.asnJSON = ai.asn, ai.org, ai.json
		hosting = ai.hosting
	}
	return hosting
}

func newGeoCache[T any](bits4, bits6 int) *geoCache[T] {
	return &geoCache[T]{bits4: bits4, bits6: bits6,
		v4: make(map[uint32]T), v6: make(map[uint64]T), byOffset: make(map[uintptr]T)}
}

func (c *geoCache[T]) key4(a netip.Addr) uint32 {
	b := a.As4()
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) &^ (1<<(32-c.bits4) - 1)
}

func (c *geoCache[T]) key6(a netip.Addr) uint64 {
	b := a.As16()
	var hi uint64
	for _, x := range b[:8] {
		hi = hi<<8 | uint64(x)
	}
	if c.bits6 >= 64 {
		return hi
	}
	return hi &^ (1<<(64-c.bits6) - 1)
}

func (c *geoCache[T]) get(a netip.Addr) (T, bool) {
	var v T
	var ok bool
	if a.Is4() {
		v, ok = c.v4[c.key4(a)]
	} else {
		v, ok = c.v6[c.key6(a)]
	}
	return v, ok
}

// put caches v under a's truncated network when the database network
// (dbBits long) covers all of it.
func (c *geoCache[T]) put(a netip.Addr, dbBits int, v T) {
	if a.Is4() {
		if dbBits <= c.bits4 {
			if len(c.v4) >= geoCacheMax {
				clear(c.v4)
			}
			c.v4[c.key4(a)] = v
		}
		return
	}
	if dbBits <= c.bits6 {
		if len(c.v6) >= geoCacheMax {
			clear(c.v6)
		}
		c.v6[c.key6(a)] = v
	}
}

func (c *geoCache[T]) putOffset(off uintptr, v T) {
	if len(c.byOffset) >= geoCacheMax {
		clear(c.byOffset)
	}
	c.byOffset[off] = v
}

func (g *GeoDB) country(a netip.Addr, cache *geoCache[countryInfo]) countryInfo {
	if ci, ok := cache.get(a); ok {
		return ci
	}
	res := g.r.Lookup(a)
	ci := countryInfo{country: CountryUnknown}
	if res.Found() {
		var ok bool
		if ci, ok = cache.byOffset[res.Offset()]; !ok {
			ci = g.decodeCountry(res)
			cache.putOffset(res.Offset(), ci)
		}
	}
	if res.Err() == nil {
		cache.put(a, res.Prefix().Bits(), ci)
	}
	return ci
}

func (g *GeoDB) decodeCountry(res maxminddb.Result) countryInfo {
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
			ci.country, ci.continent = rec.CountryCode, continentOf[rec.CountryCode]
		}
	}
	if ci.country == "" {
		ci.country = CountryUnknown
	}
	return ci
}

func (g *GeoDB) asn(a netip.Addr, cache *geoCache[asnInfo]) asnInfo {
	if ai, ok := cache.get(a); ok {
		return ai
	}
	res := g.r.Lookup(a)
	var ai asnInfo
	if res.Found() {
		var ok bool
		if ai, ok = cache.byOffset[res.Offset()]; !ok {
			var rec geoip2.ASN
			if res.Decode(&rec) == nil {
				ai = asnInfo{asn: uint32(rec.AutonomousSystemNumber), org: rec.AutonomousSystemOrganization}
				ai.hosting = hostingASNs[ai.asn]
				ai.json = strconv.AppendUint([]byte(`,"asn":`), uint64(ai.asn), 10)
				ai.json = append(ai.json, `,"as_org":`...)
				ai.json = appendJSONString(ai.json, ai.org)
			}
			cache.putOffset(res.Offset(), ai)
		}
	}
	if res.Err() == nil {
		cache.put(a, res.Prefix().Bits(), ai)
	}
	return ai
}

// isPrivate reports addresses no database places: the policy maps them to
// CountryPrivate.
func isPrivate(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		switch b[0] {
		case 0, 10, 127:
			return true
		case 100:
			return b[1]&0xc0 == 64 // 100.64.0.0/10, CGNAT
		case 169:
			return b[1] == 254
		case 172:
			return b[1]&0xf0 == 16
		case 192:
			return b[1] == 168
		}
		return b[0] >= 224 // multicast and reserved
	}
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsLinkLocalMulticast() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")
