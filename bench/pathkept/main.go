// Command pathkept measures how much of a site's traffic keeps its pages:
// the share of page views whose path logveil anonymize writes unchanged
// (assets aside, and all), the share of distinct paths, and the paths it
// changes most often. The input is generated (internal/loggen) or a log
// file in the combined format; the events are made as `logveil anonymize`
// makes them (processor/pipe), k-anonymous events and the path's tiers by
// population included.
//
//	go run ./bench/pathkept --lines 200000
//	go run ./bench/pathkept --input access.log [--events-k 1]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"slices"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor/pipe"
	"github.com/logveil/logveil/transforms"
)

func main() {
	lines := flag.Int("lines", 200000, "generated lines (without --input)")
	format := flag.String("format", "combined", "loggen format: combined or json")
	input := flag.String("input", "", "a log file in the combined format instead of generated lines")
	k := flag.Int("events-k", 5, "anonymize.events_k (1: no k-anonymous events, the path decided by its shape alone)")
	flag.Parse()
	var in []byte
	if *input != "" {
		var err error
		if in, err = os.ReadFile(*input); err != nil {
			log.Fatal(err)
		}
	} else {
		var buf bytes.Buffer
		if err := loggen.New(loggen.Options{Seed: 1, Format: *format}).WriteN(&buf, *lines); err != nil {
			log.Fatal(err)
		}
		in = buf.Bytes()
	}
	c := transforms.Default()
	c.EventsK = *k
	p, err := c.Resolve()
	if err != nil {
		log.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := pipe.Run(a, bytes.NewReader(in), &out, pipe.Options{Output: pipe.OutputJSONL, Rejects: io.Discard}); err != nil {
		log.Fatal(err)
	}
	// The events are in input order, one per line the anonymizer reads.
	w := a.NewWorker()
	events := bufio.NewScanner(&out)
	events.Buffer(nil, 1<<20)
	var all, pages tally
	changed := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 || w.Process(line) != nil {
			continue
		}
		if !events.Scan() {
			log.Fatal("fewer events than lines read")
		}
		var ev struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(events.Bytes(), &ev); err != nil {
			log.Fatal(err)
		}
		if w.Rec.BadRequest {
			continue
		}
		raw := string(rawPath(line))
		kept := ev.Path == raw
		all.add(raw, kept)
		if !asset(raw) {
			pages.add(raw, kept)
		}
		if !kept {
			changed[raw+" -> "+ev.Path]++
		}
	}
	fmt.Printf("events_k %d: page views keeping their path: %s; all requests: %s\n", *k, pages, all)
	keys := slices.SortedFunc(maps.Keys(changed), func(a, b string) int { return changed[b] - changed[a] })
	for _, k := range keys[:min(10, len(keys))] {
		fmt.Printf("  %6d  %s\n", changed[k], k)
	}
}

type tally struct {
	views, kept int
	paths       map[string]bool // distinct path -> kept at least once
}

func (t *tally) add(path string, kept bool) {
	if t.paths == nil {
		t.paths = map[string]bool{}
	}
	t.views++
	if kept {
		t.kept++
	}
	t.paths[path] = t.paths[path] || kept
}

func (t tally) String() string {
	dk := 0
	for _, k := range t.paths {
		if k {
			dk++
		}
	}
	return fmt.Sprintf("%d of %d views (%.1f%%), %d of %d distinct paths (%.1f%%)", t.kept, t.views,
		100*float64(t.kept)/float64(max(t.views, 1)), dk, len(t.paths), 100*float64(dk)/float64(max(len(t.paths), 1)))
}

// asset: a request for a file a page loads (style, script, image, font).
func asset(path string) bool {
	i := bytes.LastIndexByte([]byte(path), '.')
	if i < 0 {
		return false
	}
	switch path[i+1:] {
	case "css", "js", "png", "jpg", "jpeg", "gif", "ico", "svg", "webp", "avif", "woff", "woff2", "ttf", "eot", "otf", "map":
		return true
	}
	return false
}

// rawPath is the request target's path as the line has it.
func rawPath(line []byte) []byte {
	i := bytes.IndexByte(line, '"')
	if i < 0 {
		return nil
	}
	t := line[i+1:]
	if j := bytes.IndexByte(t, ' '); j >= 0 {
		t = t[j+1:]
	}
	if j := bytes.IndexAny(t, " \""); j >= 0 {
		t = t[:j]
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		t = t[:q]
	}
	return t
}
