// Command flood writes the worst hour a statistics stage can be given: every
// line from a visitor of its own (a distinct address) asking for a page of
// its own, all in one hour. It measures that the aggregation's memory stays
// bounded (README: statistics, memory):
//
//	go run ./bench/flood --lines 1000000 > /tmp/flood.log
//	/usr/bin/time -f '%e s %M KiB' logveil aggregate < /tmp/flood.log > /dev/null
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines to write (distinct visitors and pages, at most 16 M)")
	flag.Parse()
	if *lines < 1 || *lines > 1<<24 {
		fmt.Fprintln(os.Stderr, "flood: --lines must be 1..16777216")
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	for i := range *lines {
		fmt.Fprintf(w, "81.%d.%d.%d - - [01/Nov/2026:02:%02d:%02d +0000] \"GET /flood/page%dx HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\"\n",
			i>>16&255, i>>8&255, i&255, i*60/(*lines), i%60, i)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}
