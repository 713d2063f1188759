// Command pathkept measures how much of ordinary traffic keeps its pages:
// the share of generated page views (internal/loggen) whose path logveil
// writes unchanged, and the paths it changes most often.
//
//	go run ./bench/pathkept --lines 200000
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/transforms"
)

func main() {
	lines := flag.Int("lines", 200000, "generated lines")
	format := flag.String("format", "combined", "loggen format: combined or json")
	flag.Parse()
	p, err := transforms.Default().Resolve()
	if err != nil {
		log.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		log.Fatal(err)
	}
	w := a.NewWorker()
	g := loggen.New(loggen.Options{Seed: 1, Format: *format})
	var buf bytes.Buffer
	if err := g.WriteN(&buf, *lines); err != nil {
		log.Fatal(err)
	}
	kept, total := 0, 0
	changed := map[string]int{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := sc.Bytes()
		if w.Process(line) != nil || w.Rec.BadRequest {
			continue
		}
		raw := rawPath(line)
		total++
		if string(w.Rec.Path) == string(raw) {
			kept++
		} else {
			changed[string(raw)+" -> "+string(w.Rec.Path)]++
		}
	}
	fmt.Printf("%d of %d page views keep their path (%.1f%%)\n", kept, total, 100*float64(kept)/float64(total))
	keys := slices.SortedFunc(maps.Keys(changed), func(a, b string) int { return changed[b] - changed[a] })
	for _, k := range keys[:min(8, len(keys))] {
		fmt.Printf("  %6d  %s\n", changed[k], k)
	}
}

// rawPath is the request target's path as the generator wrote it.
func rawPath(line []byte) []byte {
	i := bytes.Index(line, []byte(`"GET `))
	if i < 0 {
		i = bytes.Index(line, []byte(`"POST `)) + 1
	} else {
		i++
	}
	t := line[bytes.IndexByte(line[i:], ' ')+i+1:]
	t = t[:bytes.IndexByte(t, ' ')]
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		t = t[:q]
	}
	return t
}
