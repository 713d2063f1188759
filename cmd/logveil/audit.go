package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms"
)

// auditReport counts what AuditLine finds and keeps a few redacted examples
// per class.
type auditReport struct {
	lines, found int64
	records      int64 // with --topic: the records read (their keys and values are the lines)
	byClass      map[transforms.Class]int64
	examples     map[transforms.Class][]string
	maxExamples  int
	findings     []transforms.Finding
}

// line audits one line; where names the line for the examples (called only
// for those, not for every line).
func (r *auditReport) line(where func() string, line []byte) {
	r.lines++
	r.findings = transforms.AuditLine(r.findings[:0], line)
	for _, f := range r.findings {
		r.found++
		r.byClass[f.Class]++
		if len(r.examples[f.Class]) < r.maxExamples {
			r.examples[f.Class] = append(r.examples[f.Class], where()+": "+redactedContext(line, f))
		}
	}
}

// redactedContext shows where a finding is without showing it: up to 40
// bytes either side, the finding itself replaced by its class and length,
// every other identifier in the excerpt masked too.
func redactedContext(line []byte, f transforms.Finding) string {
	from, to := max(0, f.Start-40), min(len(line), f.End+40)
	var b strings.Builder
	mask := func(s []byte) {
		clean := transforms.AppendRedactedLine(nil, s)
		b.Write(clean)
	}
	if from > 0 {
		b.WriteString("…")
	}
	mask(line[from:f.Start])
	fmt.Fprintf(&b, "⟨%s, %d bytes⟩", f.Class, f.End-f.Start)
	mask(line[f.End:to])
	if to < len(line) {
		b.WriteString("…")
	}
	return b.String()
}

func (r *auditReport) print(w io.Writer) {
	if r.records > 0 {
		fmt.Fprintf(w, "logveil audit: %d records (%d lines: keys and values), %d identifiers found\n", r.records, r.lines, r.found)
	} else {
		fmt.Fprintf(w, "logveil audit: %d lines, %d identifiers found\n", r.lines, r.found)
	}
	classes := make([]transforms.Class, 0, len(r.byClass))
	for c := range r.byClass {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return r.byClass[classes[i]] > r.byClass[classes[j]] })
	for _, c := range classes {
		fmt.Fprintf(w, "  %-8s %d\n", c, r.byClass[c])
		for _, e := range r.examples[c] {
			fmt.Fprintf(w, "      %s\n", e)
		}
	}
}

// cmdAudit scans files, stdin or a sample of a topic with the classifier
// logveil scrubs with, and exits 1 when it finds anything.
func cmdAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", stderr, "logveil audit [flags] [FILE...]",
		`Scans logveil's output (or any text: FILE..., else stdin; or, with --topic, a sample of a topic)
for identifiers with the detectors that scrub it: emails, addresses in every notation, MACs,
coordinates, dates of birth, phone, card, IBAN and IMEI numbers, postcodes and house numbers,
tokens. Prints counts by category and redacted examples; exits 1 when anything is found, 0 when
nothing is, 2 on a usage error.`,
		"logveil anonymize < access.log | logveil audit    (or: logveil audit --brokers B --topic logveil.events)")
	b := config.Bind(fs, "kafka.brokers")
	topic := fs.String("topic", "", "audit a sample of this topic (with --brokers or --config) instead of files")
	sample := fs.Int("sample", 100000, "with --topic: the newest records to read, spread over the partitions (0: all)")
	examples := fs.Int("examples", 3, "redacted examples shown per category")
	if code, ok := parseArgs(fs, args, -1); !ok {
		return code
	}
	rep := &auditReport{byClass: map[transforms.Class]int64{}, examples: map[transforms.Class][]string{}, maxExamples: *examples}
	if *topic != "" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "logveil audit: give files or --topic, not both\n")
			return exitConfig
		}
		cfg, ok := loadSettings("audit", b, stderr)
		if !ok {
			return exitConfig
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		err := processor.SampleTopic(ctx, cfg.Kafka, *topic, *sample, func(key, value []byte) {
			rep.records++
			n := rep.records
			rep.line(func() string { return fmt.Sprintf("%s record %d key", *topic, n) }, key)
			for _, l := range bytes.Split(value, []byte("\n")) {
				if len(l) > 0 {
					rep.line(func() string { return fmt.Sprintf("%s record %d", *topic, n) }, l)
				}
			}
		})
		if err != nil {
			fmt.Fprintf(stderr, "logveil audit: %v\n", err)
			return exitIO
		}
	} else {
		inputs := fs.Args()
		if len(inputs) == 0 {
			inputs = []string{"-"}
		}
		for _, name := range inputs {
			in := stdin
			if name != "-" {
				file, err := os.Open(name)
				if err != nil {
					fmt.Fprintf(stderr, "logveil audit: %v\n", err)
					return exitIO
				}
				defer file.Close()
				in = file
			}
			sc := bufio.NewScanner(in)
			sc.Buffer(make([]byte, 0, 64<<10), 2<<20)
			n := 0
			for sc.Scan() {
				n++
				rep.line(func() string { return fmt.Sprintf("%s:%d", name, n) }, sc.Bytes())
			}
			if err := sc.Err(); err != nil {
				fmt.Fprintf(stderr, "logveil audit: %s: %v\n", name, err)
				return exitIO
			}
		}
	}
	rep.print(stdout)
	if rep.found > 0 {
		return exitIO
	}
	return exitOK
}
