// Command piicorpus writes access-log lines with identifiers of every
// category planted in every field and format (internal/piicorpus), and the
// planted values, one per line, tab-separated with category and field.
//
//	go run ./bench/piicorpus --lines 3000 --out corpus.log --planted planted.tsv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/logveil/logveil/internal/piicorpus"
)

func main() {
	n := flag.Int("lines", 3000, "lines to write")
	seed := flag.Uint64("seed", 1, "generator seed")
	out := flag.String("out", "corpus.log", "lines")
	planted := flag.String("planted", "planted.tsv", "planted values: category, field, value")
	broken := flag.Float64("broken", 0.2, "share of lines no parser reads")
	format := flag.String("format", "", "only lines in this format (combined, common, vhost_combined, json); default all")
	flag.Parse()
	lf, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	pf, err := os.Create(*planted)
	if err != nil {
		log.Fatal(err)
	}
	lw, pw := bufio.NewWriter(lf), bufio.NewWriter(pf)
	g := piicorpus.New(*seed)
	for i := 0; i < *n; {
		l := g.Line()
		if float64(i%100) < *broken*100 {
			l = g.BrokenLine()
		}
		if *format != "" && l.Format != *format {
			continue
		}
		i++
		fmt.Fprintln(lw, l.Text)
		for _, p := range l.Plants {
			fmt.Fprintf(pw, "%s\t%s\t%s\n", p.Category, p.Field, p.Value)
		}
	}
	if err := lw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := pw.Flush(); err != nil {
		log.Fatal(err)
	}
}
