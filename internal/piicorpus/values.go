// Package piicorpus generates access-log lines with personal identifiers
// planted in every field of every input format, and the list of what was
// planted: the ground truth for logveil's privacy property tests, its fuzz
// seeds and `bench/run`'s privacy row. Values are generated per category
// (not drawn from a fixed list), so a test over many seeds sees many
// spellings of each. Same seed, same lines.
package piicorpus

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Category names a kind of identifier.
type Category string

// Categories planted by the generator.
const (
	IPv4         Category = "ipv4"
	IPv4Dashed   Category = "ipv4-dashed"
	IPv4Hex      Category = "ipv4-hex"
	IPv4Decimal  Category = "ipv4-decimal"
	IPv4Padded   Category = "ipv4-padded"
	IPv6         Category = "ipv6"
	Email        Category = "email"
	PhoneIntl    Category = "phone-intl"
	PhoneNat     Category = "phone-national"
	Card         Category = "card"
	IBAN         Category = "iban"
	NationalID   Category = "national-id"
	IMEI         Category = "imei"
	MAC          Category = "mac"
	Geo          Category = "coordinates"
	BirthDate    Category = "date-of-birth"
	UserName     Category = "user-name"
	FullName     Category = "full-name"
	JWT          Category = "jwt"
	UUID         Category = "uuid"
	APIKey       Category = "api-key"
	HexToken     Category = "hex-token"
	ShortCode    Category = "short-code"
	Password     Category = "password"
	Base64       Category = "base64-identifier"
	GAClientID   Category = "ga-client-id"
	Postcode     Category = "postcode"
	Street       Category = "street-address"
	HostWithIP   Category = "host-with-address"
	PrivateHost  Category = "private-host"
	PrivateSuffx Category = "private-suffix-host"
)

// All lists every category.
var All = []Category{IPv4, IPv4Dashed, IPv4Hex, IPv4Decimal, IPv4Padded, IPv6, Email, PhoneIntl, PhoneNat,
	Card, IBAN, NationalID, IMEI, MAC, Geo, BirthDate, UserName, FullName, JWT, UUID, APIKey, HexToken,
	ShortCode, Password, Base64, GAClientID, Postcode, Street, HostWithIP, PrivateHost, PrivateSuffx}

// Value returns a fresh value of category c.
func (g *Gen) Value(c Category) string {
	r := g.rng
	switch c {
	case IPv4:
		return g.v4s()
	case IPv4Dashed:
		return strings.ReplaceAll(g.v4s(), ".", "-")
	case IPv4Hex:
		a := g.v4()
		f := "0x%02X%02X%02X%02X"
		if r.IntN(2) == 0 {
			f = "0x%02x%02x%02x%02x"
		}
		return fmt.Sprintf(f, a[0], a[1], a[2], a[3])
	case IPv4Decimal:
		a := g.v4()
		return strconv.FormatUint(uint64(a[0])<<24|uint64(a[1])<<16|uint64(a[2])<<8|uint64(a[3]), 10)
	case IPv4Padded:
		a := g.v4()
		return fmt.Sprintf("%03d.%03d.%03d.%03d", a[0], a[1], a[2], a[3])
	case IPv6:
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("2a02:%x:%x:%x::%x", 1+r.IntN(0xffff), r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xffff))
		case 1:
			return fmt.Sprintf("2001:%x:%x:%x:%x:%x:%x:%x", 0x4000+r.IntN(0x1000), r.IntN(0x10000), r.IntN(0x10000),
				r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xffff))
		}
		return fmt.Sprintf("2600:%x::%x:%x", 1+r.IntN(0xfff), 1+r.IntN(0xffff), 1+r.IntN(0xffff))
	case Email:
		first, last := lowerName(g.pick(firstNames)), lowerName(g.pick(lastNames))
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%s.%s@%s", first, last, g.pick(mailDomains))
		case 1:
			return fmt.Sprintf("%s%d+news@%s", first[:1]+last, r.IntN(100), g.pick(mailDomains))
		}
		return fmt.Sprintf("%s_%s%d@mail.%s", first, last[:3], 1950+r.IntN(60), g.pick(mailDomains))
	case PhoneIntl:
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("+1-%03d-%03d-%04d", 201+r.IntN(700), 200+r.IntN(800), r.IntN(10000))
		case 1:
			return fmt.Sprintf("+49 15%d %08d", 1+r.IntN(9), r.IntN(1e8))
		case 2:
			return fmt.Sprintf("+44%d%09d", 7, r.IntN(1e9))
		}
		return fmt.Sprintf("+33 6 %02d %02d %02d %02d", r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100))
	case PhoneNat:
		switch r.IntN(5) {
		case 0:
			return fmt.Sprintf("015%d %04d %04d", 1+r.IntN(9), r.IntN(10000), r.IntN(10000))
		case 1:
			return fmt.Sprintf("(%03d) %03d-%04d", 201+r.IntN(700), 200+r.IntN(800), r.IntN(10000))
		case 2:
			return fmt.Sprintf("030-%08d", r.IntN(1e8))
		case 3:
			return fmt.Sprintf("06 %02d %02d %02d %02d", r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100))
		}
		return fmt.Sprintf("%03d.%03d.%04d", 201+r.IntN(700), 200+r.IntN(800), r.IntN(10000))
	case Card:
		prefix := g.pick([]string{"4", "51", "52", "53", "54", "55", "6011", "2221"})
		d := luhnComplete(prefix, 16, r)
		switch r.IntN(3) {
		case 0:
			return d
		case 1:
			return d[0:4] + " " + d[4:8] + " " + d[8:12] + " " + d[12:16]
		}
		return d[0:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:16]
	case IBAN:
		return g.iban()
	case NationalID:
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%03d-%02d-%04d", 100+r.IntN(665), 1+r.IntN(98), 1+r.IntN(9998)) // US SSN
		case 1:
			return fmt.Sprintf("%011d", 1e10+r.IntN(9e10)) // German tax id shape
		}
		return fmt.Sprintf("%d %02d %02d %02d %03d %03d", 1+r.IntN(2), r.IntN(100), 1+r.IntN(12), 1+r.IntN(95), r.IntN(1000), r.IntN(1000)) // French INSEE
	case IMEI:
		d := luhnComplete(g.pick([]string{"35", "86", "01", "99"}), 15, r)
		if r.IntN(2) == 0 {
			return d[:2] + "-" + d[2:8] + "-" + d[8:14] + "-" + d[14:]
		}
		return d
	case MAC:
		b := make([]byte, 6)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		b[0] |= 0x10 // never all digits
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
		case 1:
			return fmt.Sprintf("%02X-%02X-%02X-%02X-%02X-%02X", b[0], b[1], b[2], b[3], b[4], b[5])
		case 2:
			return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5])
		}
		b[0] = 0xa0 | b[0]&0x0f // a letter and digits in the bare form
		return fmt.Sprintf("%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	case Geo:
		lat := fmt.Sprintf("%d.%04d", r.IntN(80), r.IntN(10000))
		lon := fmt.Sprintf("%d.%05d", r.IntN(170), r.IntN(100000))
		if r.IntN(3) == 0 {
			lon = "-" + lon
		}
		switch r.IntN(3) {
		case 0:
			return lat + "," + lon
		case 1:
			return "@" + lat + "," + lon + ",17z"
		}
		return lat + ", " + lon
	case BirthDate:
		y, m, d := 1930+r.IntN(80), 1+r.IntN(12), 1+r.IntN(28)
		switch r.IntN(6) {
		case 0:
			return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
		case 1:
			return fmt.Sprintf("%02d.%02d.%04d", d, m, y)
		case 2:
			return fmt.Sprintf("%02d/%02d/%04d", m, d, y)
		case 3:
			return fmt.Sprintf("%d %s %d", d, monthAbbr[m-1], y)
		case 4:
			return fmt.Sprintf("%s %d, %d", monthFull[m-1], d, y)
		}
		return fmt.Sprintf("%04d%02d%02d", y, m, d)
	case UserName:
		first, last := lowerName(g.pick(firstNames)), lowerName(g.pick(lastNames))
		switch r.IntN(4) {
		case 0:
			return first[:1] + last
		case 1:
			return first + strconv.Itoa(10+r.IntN(90))
		case 2:
			return first + "." + last
		}
		return first + "_" + last[:1]
	case FullName:
		return g.pick(firstNames) + " " + g.pick(lastNames)
	case JWT:
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		p := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%d","name":"%s"}`, r.IntN(1e9), g.pick(firstNames))))
		s := make([]byte, 32)
		for i := range s {
			s[i] = byte(r.Uint32())
		}
		return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(s)
	case UUID:
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.IntN(0x10000), r.IntN(0x1000), 0x8000|r.IntN(0x4000), r.Uint64()&0xffffffffffff)
	case APIKey:
		switch r.IntN(3) {
		case 0:
			return "sk_live_" + g.alnum(24, alnumChars)
		case 1:
			return "AKIA" + g.alnum(16, upperDigits)
		}
		return "ghp_" + g.alnum(36, alnumChars)
	case HexToken:
		return g.alnum([]int{32, 40, 64}[r.IntN(3)], "0123456789abcdef")
	case ShortCode:
		// letters and digits alternating, as reset and one-time codes are
		b := make([]byte, 6+r.IntN(5))
		for i := range b {
			if i%2 == 1 {
				b[i] = "23456789"[r.IntN(8)]
			} else {
				b[i] = "abcdefghjkmnpqrstuvwxyz"[r.IntN(23)]
			}
		}
		return string(b)
	case Password:
		return g.pick([]string{"Summer", "Winter", "Passw0rd", "Hunter", "Letmein", "Dragon"}) + strconv.Itoa(1990+r.IntN(36)) + g.pick([]string{"!", "#", "?", "$"})
	case Base64:
		var plain string
		if r.IntN(2) == 0 {
			plain = g.Value(Email)
		} else {
			plain = strconv.Itoa(1e5 + r.IntN(1e9))
		}
		if r.IntN(2) == 0 {
			return base64.StdEncoding.EncodeToString([]byte(plain))
		}
		return base64.RawURLEncoding.EncodeToString([]byte(plain))
	case GAClientID:
		return fmt.Sprintf("GA1.2.%d.%d", 1e9+r.IntN(1e9), 1600000000+r.IntN(2e8))
	case Postcode:
		switch r.IntN(3) {
		case 0:
			outward := fmt.Sprintf("%s%d", g.pick([]string{"SW", "EC", "M", "B", "LS", "G"}), 1+r.IntN(20))
			if r.IntN(3) == 0 {
				outward = fmt.Sprintf("%s%dA", g.pick([]string{"SW", "EC", "W"}), 1+r.IntN(9))
			}
			return fmt.Sprintf("%s %d%s", outward, r.IntN(10), g.alnum(2, "ABDEFGHJLNPQRSTUWXYZ"))
		case 1:
			return fmt.Sprintf("%05d", 1000+r.IntN(98000))
		}
		return fmt.Sprintf("%05d-%04d", 1000+r.IntN(98000), r.IntN(10000))
	case Street:
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%d %s Street", 1+r.IntN(300), g.pick(lastNames))
		case 1:
			return fmt.Sprintf("%sstraße %d", g.pick(lastNames), 1+r.IntN(150))
		}
		return fmt.Sprintf("%d%s %s Road", 1+r.IntN(300), g.pick([]string{"", "a", "b"}), g.pick(lastNames))
	case HostWithIP:
		a := g.v4()
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%04x-%d-%d-%d-%d.ngrok-free.app", r.IntN(0x10000), a[0], a[1], a[2], a[3])
		case 1:
			return fmt.Sprintf("ec2-%d-%d-%d-%d.compute-1.amazonaws.com", a[0], a[1], a[2], a[3])
		}
		return fmt.Sprintf("%d-%d-%d-%d.static.%s", a[0], a[1], a[2], a[3], g.pick([]string{"example.net", "isp.example.com"}))
	case PrivateHost:
		n := lowerName(g.pick(firstNames))
		switch r.IntN(4) {
		case 0:
			return n + "s-macbook-pro.local"
		case 1:
			return n + "-thinkpad"
		case 2:
			return "nas-" + n + ".home.arpa"
		}
		return n + "-pc." + g.pick([]string{"lan", "internal", "corp"})
	case PrivateSuffx:
		return g.Value(UserName) + "." + g.pick([]string{"github.io", "herokuapp.com", "blogspot.com", "vercel.app"})
	}
	panic("BUG: unknown category " + string(c))
}

var monthAbbr = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
var monthFull = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

var firstNames = []string{"Maximilian", "Lysander", "Anna", "Sofia", "Jonas", "Élodie", "Mateo", "Chiara", "Oskar",
	"Yusuf", "Ingrid", "Björn", "Camille", "Dmitri", "Aaliyah", "Henrike", "Rosalind", "Tobias"}
var lastNames = []string{"Kaczmarczyk", "Okonkwo", "Fairweather", "Lindqvist", "Brandstätter", "Castellanos",
	"Nakamura", "Vasquez", "Oyelaran", "Thistlewood", "Grabowski", "Montgomery", "Abernathy"}
var mailDomains = []string{"gmail.com", "posteo.de", "example.org", "uni-hamburg.de", "outlook.com"}

const (
	alnumChars  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

func lowerName(s string) string {
	return strings.NewReplacer("é", "e", "É", "e", "ö", "o", "ä", "a", "ü", "u", "ß", "ss").Replace(strings.ToLower(s))
}

func (g *Gen) pick(l []string) string { return l[g.rng.IntN(len(l))] }

func (g *Gen) alnum(n int, chars string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.rng.IntN(len(chars))]
	}
	return string(b)
}

// v4 is a public-looking IPv4 address with a non-zero last octet.
func (g *Gen) v4() [4]byte {
	r := g.rng
	return [4]byte{byte(11 + r.IntN(212)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))}
}

func (g *Gen) v4s() string {
	a := g.v4()
	return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3])
}

// luhnComplete returns prefix followed by random digits up to n, the last
// being the Luhn check digit.
func luhnComplete(prefix string, n int, r *rand.Rand) string {
	b := []byte(prefix)
	for len(b) < n-1 {
		b = append(b, byte('0'+r.IntN(10)))
	}
	sum := 0
	for i := len(b) - 1; i >= 0; i-- {
		x := int(b[i] - '0')
		if (len(b)-1-i)%2 == 0 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return string(append(b, byte('0'+(10-sum%10)%10)))
}

// iban builds a valid IBAN for one of a few countries, grouped by four or
// not, in upper or lower case.
func (g *Gen) iban() string {
	r := g.rng
	var cc, bban string
	switch r.IntN(4) {
	case 0:
		cc, bban = "DE", g.alnum(18, "0123456789")
	case 1:
		cc, bban = "GB", g.alnum(4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")+g.alnum(14, "0123456789")
	case 2:
		cc, bban = "NL", g.alnum(4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")+g.alnum(10, "0123456789")
	default:
		cc, bban = "FR", g.alnum(23, "0123456789")
	}
	rem := 0
	for _, c := range bban + cc + "00" {
		if c >= 'A' {
			rem = (rem*100 + int(c-'A') + 10) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	s := fmt.Sprintf("%s%02d%s", cc, 98-rem, bban)
	if r.IntN(2) == 0 {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:min(i+4, len(s))])
		}
		s = b.String()
	}
	if r.IntN(4) == 0 {
		s = strings.ToLower(s)
	}
	return s
}
