// Command crawlergen writes transforms/crawlers.json, the crawler list
// logveil classifies user agents with, from the crawler-user-agents package
// (github.com/monperrus/crawler-user-agents, MIT; npm crawler-user-agents):
// each pattern with a display name and its tags, nothing else.
//
//	npm pack crawler-user-agents@1.60.0 && tar xzf crawler-user-agents-1.60.0.tgz
//	go run ./internal/crawlergen package/crawler-user-agents.json > transforms/crawlers.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
)

type entry struct {
	Pattern   string   `json:"pattern"`
	Instances []string `json:"instances"`
	Tags      []string `json:"tags"`
}

type out struct {
	Pattern string   `json:"p"`
	Name    string   `json:"n"`
	Tags    []string `json:"t,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: crawlergen crawler-user-agents.json > transforms/crawlers.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var in []entry
	if err := json.Unmarshal(data, &in); err != nil {
		fail(err)
	}
	var res []out
	for _, e := range in {
		re, err := regexp.Compile(e.Pattern)
		if err != nil {
			fmt.Fprintf(os.Stderr, "crawlergen: skipping %q: %v\n", e.Pattern, err)
			continue
		}
		res = append(res, out{Pattern: e.Pattern, Name: name(re, e), Tags: e.Tags})
	}
	// One entry a line, so that an update reads as a diff of entries.
	var b strings.Builder
	b.WriteString("[\n")
	for i, r := range res {
		enc, _ := json.Marshal(r)
		b.Write(enc)
		if i < len(res)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	os.Stdout.WriteString(b.String())
}

// name is what the pattern matches in its first instance, trimmed of
// punctuation and version numbers ("Googlebot/" -> "Googlebot"), or its
// longest literal.
func name(re *regexp.Regexp, e entry) string {
	for _, inst := range e.Instances {
		if m := re.FindString(inst); m != "" && len(m) <= 40 {
			if n := clean(m); n != "" {
				return n
			}
		}
	}
	p, _ := syntax.Parse(e.Pattern, syntax.Perl)
	return clean(longestLiteral(p.Simplify()))
}

func clean(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func longestLiteral(re *syntax.Regexp) string {
	best := ""
	if re.Op == syntax.OpLiteral {
		best = string(re.Rune)
	}
	for _, s := range re.Sub {
		if l := longestLiteral(s); len(l) > len(best) {
			best = l
		}
	}
	return best
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crawlergen:", err)
	os.Exit(1)
}
