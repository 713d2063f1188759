package transforms

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// The lexicon (lexicon/LICENSES.md: sources, licences, sizes): the common
// words of the major languages, and the given names and surnames the
// person-name detector looks for. It is read once, when a policy that
// decides by population first asks (Policy.population), into lookup tables
// of about 16 MB (the words 7.2 MB, their table 8 MB), built in about 0.2 s.

var (
	//go:embed lexicon/words.txt.gz
	wordsGz []byte
	//go:embed lexicon/given.txt.gz
	givenGz []byte
	//go:embed lexicon/surnames.txt.gz
	surnamesGz []byte
)

// wordTable is a set of words: the words, '\n'-separated, in one string,
// and an open-addressing table of their offsets (+1; 0: free).
type wordTable struct {
	blob  string
	slots []uint32
}

func newWordTable(gz []byte) *wordTable {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic("BUG: embedded lexicon: " + err.Error())
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("BUG: embedded lexicon: " + err.Error())
	}
	n := bytes.Count(data, []byte{'\n'})
	size := 64
	for size < 2*n {
		size *= 2
	}
	t := &wordTable{blob: string(data), slots: make([]uint32, size)}
	mask := uint64(size - 1)
	for off := 0; off < len(t.blob); {
		end := off + bytes.IndexByte(data[off:], '\n')
		i := xxhash.Sum64String(t.blob[off:end]) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = uint32(off + 1)
		off = end + 1
	}
	return t
}

func (t *wordTable) has(w []byte) bool {
	if len(w) == 0 {
		return false
	}
	mask := uint64(len(t.slots) - 1)
	for i := xxhash.Sum64(w) & mask; t.slots[i] != 0; i = (i + 1) & mask {
		off := int(t.slots[i] - 1)
		if end := off + len(w); end < len(t.blob) && t.blob[end] == '\n' && t.blob[off:end] == string(w) {
			return true
		}
	}
	return false
}

type lexiconTables struct {
	words *wordTable
	*nameTables
}

// nameTables are the person-name detector's (0.1 MB), read on their own
// for search terms, which every policy scrubs.
type nameTables struct {
	given, surnames *wordTable
}

var (
	names = sync.OnceValue(func() *nameTables {
		return &nameTables{given: newWordTable(givenGz), surnames: newWordTable(surnamesGz)}
	})
	lexicon = sync.OnceValue(func() *lexiconTables { return &lexiconTables{words: newWordTable(wordsGz), nameTables: names()} })
)

// person reports whether the words a and b are a given name and a
// surname.
func (n *nameTables) person(a, b []byte) bool { return n.given.has(a) && n.surnames.has(b) }

// scrubNames replaces each given name followed by a surname in the
// space-separated lower-case words of s[from:] by {name}, using tmp as
// scratch; it returns s and tmp.
func scrubNames(s []byte, from int, tmp []byte) ([]byte, []byte) {
	n := names()
	found := false
	var prev []byte
	for w := range bytes.SplitSeq(s[from:], []byte{' '}) {
		if prev != nil && n.person(prev, w) {
			found = true
			break
		}
		prev = w
	}
	if !found {
		return s, tmp
	}
	tmp = append(tmp[:0], s[from:]...)
	s = s[:from]
	words := tmp
	for len(words) > 0 {
		w, rest, _ := bytes.Cut(words, []byte{' '})
		next, _, _ := bytes.Cut(rest, []byte{' '})
		if len(s) > from {
			s = append(s, ' ')
		}
		if len(rest) > 0 && n.person(w, next) {
			s = append(s, ClassName.Placeholder()...)
			_, rest, _ = bytes.Cut(rest, []byte{' '})
		} else {
			s = append(s, w...)
		}
		words = rest
	}
	return s, tmp
}

// webWords are the words of URLs that no dictionary lists: file types,
// framework and asset directories.
var webWords = newWordSet([]string{"img", "imgs", "js", "css", "scss", "svg", "png", "jpg", "jpeg", "gif", "webp",
	"avif", "ico", "woff", "woff2", "ttf", "eot", "otf", "pdf", "txt", "xml", "json", "rss", "atom", "html", "htm",
	"php", "asp", "aspx", "jsp", "cgi", "wp", "xmlrpc", "oembed", "ajax", "admin", "cdn", "src", "dist", "min",
	"bundle", "chunk", "vendor", "vendors", "api", "graphql", "amp", "favicon", "robots", "sitemap", "sitemaps",
	"thumb", "thumbs", "thumbnail", "thumbnails", "avatar", "avatars", "rest", "oauth", "oauth2", "sso", "saml",
	"webhook", "webhooks", "faq", "faqs", "blog", "blogs", "tos", "gdpr", "rgpd", "dsgvo", "impressum", "ios",
	"android", "mp3", "mp4", "webm", "ogg", "wav", "zip", "gz", "tgz", "csv", "xlsx", "docx", "pptx", "epub",
	"md", "yaml", "yml", "toml", "ini", "map", "ts", "tsx", "jsx", "mjs", "cjs", "wasm", "gql", "ui", "ux",
	"auth", "login", "logout", "signup", "signin", "checkout", "cart", "preview", "embed", "feed", "feeds",
	"tag", "tags", "cat", "category", "categories", "archive", "archives", "page", "pages", "wiki", "docs",
	"doc", "dev", "prod", "beta", "alpha", "assets", "static", "media", "uploads", "fonts", "icons", "lib",
	"libs", "plugins", "themes", "modules", "components", "node", "npm", "gtm", "ga", "utm", "seo", "sdk"})

// lexical reports whether a route-like segment is made only of common
// words, web words, small numbers and what the site lists as safe —
// and names nobody: no given name followed by a surname, no house number
// beside a street word. name reports a person's name found in it (to be
// replaced however many people used it). With c, the words it does not
// know are noted as the site's candidate words (population.go), and words
// says how many; -1 when the segment cannot be admitted word by word (a
// large number, an address, no room).
func lexical(seg []byte, safe []string, c *candidates) (ok, name bool, words int) {
	lx := lexicon()
	ok = true
	prevGiven, number, street, byWords := false, false, false, true
	start := 0
	if c != nil {
		start = int(c.nwords)
	}
	whole := seg
	for len(seg) > 0 {
		i := 0
		for i < len(seg) && seg[i] != '-' && seg[i] != '_' && seg[i] != '.' {
			i++
		}
		w := seg[:i]
		if i < len(seg) {
			seg = seg[i+1:]
		} else {
			seg = nil
		}
		if len(w) == 0 {
			continue
		}
		if allDigits(w) {
			number = true
			prevGiven = false
			if !smallNumber(w) {
				ok, byWords = false, false
			}
			continue
		}
		if prevGiven && lx.surnames.has(w) {
			if c != nil {
				c.nwords = uint8(start)
			}
			return false, true, -1
		}
		prevGiven = lx.given.has(w)
		if isWord(lx, w) || nameIn(w, safe) {
			continue
		}
		ok = false
		if byWords = byWords && c != nil && int(c.nwords) < MaxWords; byWords {
			c.words[c.nwords] = xxhash.Sum64(w)
			c.nwords++
		}
	}
	if number {
		// A house number beside a street word: an address (rare, so looked
		// for only when there is a number).
		for w := range bytes.FieldsFuncSeq(whole, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			street = street || isStreetWord(w)
		}
	}
	if number && street {
		ok, byWords = false, false
	}
	if c == nil {
		return ok, false, -1
	}
	if ok || !byWords {
		c.nwords = uint8(start)
		return ok, false, -1
	}
	return false, false, int(c.nwords) - start
}

// isWord: a word of the lexicon or of the web, or its plural; a single
// letter.
func isWord(lx *lexiconTables, w []byte) bool {
	switch {
	case len(w) == 1 || lx.words.has(w) || webWords.has(w) || routeWords.has(w):
		return true
	case len(w) > 3 && w[len(w)-1] == 's':
		s := w[:len(w)-1]
		return lx.words.has(s) || routeWords.has(s) || len(s) > 3 && s[len(s)-1] == 'e' && lx.words.has(s[:len(s)-1])
	}
	return false
}

// routeWords are the path rules' own words (path.go).
var routeWords = newWordSet(identityParents, secretParents, actionWords, secretFollowers)

// smallNumber: a number that counts or dates pages rather than naming a
// thing — up to 99, or a year from 1900 to 2099 ("/2024/05/").
func smallNumber(w []byte) bool {
	switch len(w) {
	case 1, 2:
		return true
	case 4:
		return w[0] == '1' && w[1] == '9' || w[0] == '2' && w[1] == '0'
	}
	return false
}
