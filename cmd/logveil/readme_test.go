package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/loggen"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMECommandsExist: every logveil command line in the README's
// shell blocks names a command that exists and only flags that command
// has, so the quick start runs as written.
func TestREADMECommandsExist(t *testing.T) {
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	reFlag := regexp.MustCompile(`(?:^|\s)(--?[a-z][a-z0-9-]*)`)
	seen := 0
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			line = strings.SplitN(line, "#", 2)[0]
			for _, seg := range regexp.MustCompile(`[|;]|&&`).Split(line, -1) {
				f := strings.Fields(seg)
				for len(f) > 0 && strings.Contains(f[0], "=") {
					f = f[1:] // VAR=value prefixes
				}
				if len(f) < 2 || !strings.HasSuffix(f[0], "logveil") || strings.Contains(f[0], "/cmd/") {
					continue
				}
				cmd := f[1]
				code, _, help := runCmdHelp(cmd)
				if code != exitOK {
					t.Errorf("README runs %q: no such command", strings.TrimSpace(seg))
					continue
				}
				for _, m := range reFlag.FindAllStringSubmatch(strings.Join(f[2:], " "), -1) {
					name := strings.TrimLeft(m[1], "-")
					// Go's flag help ("  -name"), or argparse's ("  -4, --name", "  --name").
					if !strings.Contains(help, "  -"+name+" ") && !strings.Contains(help, "  -"+name+"\n") &&
						!strings.Contains(help, ", --"+name+" ") && !strings.Contains(help, "  --"+name+" ") {
						t.Errorf("README: logveil %s has no flag %s (in %q)", cmd, m[1], strings.TrimSpace(seg))
					}
				}
				seen++
			}
		}
	}
	if seen < 15 {
		t.Errorf("only %d logveil command lines found in the README", seen)
	}
}

// runCmdHelp returns a command's -h output; the version and help commands
// have none.
func runCmdHelp(name string) (int, string, string) {
	switch name {
	case "run", "check-config", "stats", "audit", "anonymize", "aggregate", "demo", "loggen", "create-topic":
		code, _, stderr := runCmd(name, "-h")
		return code, "", stderr
	case "fetch-geoip":
		var out, errb bytes.Buffer
		code := cmdFetchGeoIP([]string{"-h"}, &out, &errb)
		return code, "", errb.String()
	case "anonip": // anonip's help goes to stdout, as argparse's does
		var out, errb bytes.Buffer
		code := cmdAnonip([]string{"-h"}, nil, &out, &errb)
		return code, "", out.String()
	}
	return exitConfig, "", ""
}

// TestREADMEPipeExample reruns the pipe section's transcript: the summary's
// counts and reasons and the rejects file's shapes are what the commands
// print today.
func TestREADMEPipeExample(t *testing.T) {
	if testing.Short() {
		t.Skip("a million lines")
	}
	doc := readme(t)
	m := regexp.MustCompile(`(?s)\$ \./logveil anonymize [^\n]*\n(logveil anonymize: (\d+) lines in, (\d+) out, (\d+) rejected)[^\n]*\n((?:  rejected: [^\n]*\n)+)\$ sort rej.txt \| uniq -c\n((?: +\d+ [^\n]*\n)+)`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("the pipe example is not in the README")
	}
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 1, Malformed: 0.001}).WriteN(&in, 1000000)
	rej := filepath.Join(t.TempDir(), "rej.txt")
	_, stderr, code := runAnonymize(t, in.String(), "--rejects", rej)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr, m[1]) || !strings.Contains(stderr, m[5]) {
		t.Errorf("README says\n%s%s\nthe command prints\n%s", m[1], m[5], stderr)
	}
	data, _ := os.ReadFile(rej)
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		counts[sc.Text()]++
	}
	var lines []string
	for l, n := range counts {
		lines = append(lines, strings.Repeat(" ", 7-len(itoa(n)))+itoa(n)+" "+l)
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	if got != m[6] {
		t.Errorf("README's rejects:\n%sthe command's:\n%s", m[6], got)
	}
}

// TestREADMEStatsAndEventExamples: the example rows and event in the README
// are in what the commands named next to them print.
func TestREADMEStatsAndEventExamples(t *testing.T) {
	doc := readme(t)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(blocks) < 2 {
		t.Fatal("README lacks its JSON examples")
	}
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 3}).WriteN(&in, 20)
	// The first example has every field (events_k 1), the second is what
	// the default k-anonymous events make of the same line.
	full, _, _ := runAnonymize(t, in.String(), "--quiet", "--events-k", "1")
	cut, _, _ := runAnonymize(t, in.String(), "--quiet")
	examples := strings.Split(strings.TrimSpace(blocks[0][1]), "\n")
	if len(examples) != 2 || !strings.Contains(full, examples[0]+"\n") || !strings.Contains(cut, examples[1]+"\n") {
		t.Errorf("README's events are not what `logveil loggen --lines 20 --seed 3 | logveil anonymize [--events-k 1]` prints:\n%s", blocks[0][1])
	}
	in.Reset()
	loggen.New(loggen.Options{Seed: 3}).WriteN(&in, 100000)
	var out, errb bytes.Buffer
	if code := cmdAggregate([]string{"--window", "1h", "--quiet"}, &in, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	for _, row := range strings.Split(strings.TrimSpace(blocks[1][1]), "\n") {
		if !strings.Contains(out.String(), row+"\n") {
			t.Errorf("README's row is not in `logveil loggen --lines 100000 --seed 3 | logveil aggregate --window 1h`:\n%s", row)
		}
	}
}

// TestREADMEWhereThingsAre: the README's "Where things are" table names
// every Go source file of the folders whose files it lists, and names no
// file that is not there.
func TestREADMEWhereThingsAre(t *testing.T) {
	s := readme(t)
	i := strings.Index(s, "### Where things are")
	j := strings.Index(s[i:], "\n## ")
	table := s[i : i+j]
	rowRe := regexp.MustCompile("(?m)^\\| `([a-z/]+)/`[^|]*\\| (.*)$")
	fileRe := regexp.MustCompile("`([a-z_]+\\.(?:go|html|json))`")
	rows := rowRe.FindAllStringSubmatch(table, -1)
	if len(rows) < 10 {
		t.Fatalf("only %d rows in the table", len(rows))
	}
	for _, r := range rows {
		dir := filepath.Join("..", "..", r[1])
		named := map[string]bool{}
		for _, m := range fileRe.FindAllStringSubmatch(r[2], -1) {
			named[m[1]] = true
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Errorf("the table names %s/: %v", r[1], err)
			continue
		}
		have := map[string]bool{}
		for _, e := range entries {
			have[e.Name()] = true
			if len(named) > 0 && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") && e.Name() != "doc.go" && !named[e.Name()] {
				t.Errorf("%s/%s is not in README's Where things are", r[1], e.Name())
			}
		}
		for f := range named {
			if !have[f] && !strings.Contains(f, "/") {
				// A file of another folder may be named (crawlers.json's generator, say).
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil && r[1] != "internal" && r[1] != "bench" {
					t.Errorf("README's Where things are names %s/%s, which does not exist", r[1], f)
				}
			}
		}
	}
}
