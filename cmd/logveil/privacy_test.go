package main

import (
	"bytes"
	"index/suffixarray"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/piicorpus"
)

// TestDefaultOutputsKeepNoIdentifier runs the binary's commands over a
// corpus with identifiers of every category planted in every field and
// format (a fifth of the lines unreadable) and checks every default output:
// events as JSON and as lines, the rejects file, stderr, statistics as JSON
// and HTML. No planted value may be found in any of them, and logveil audit
// finds nothing in them while it finds every category family in the input.
func TestDefaultOutputsKeepNoIdentifier(t *testing.T) {
	gen := piicorpus.New(21)
	var in strings.Builder
	var plants []piicorpus.Plant
	for i := 0; i < 2500; i++ {
		l := gen.Line()
		if i%5 == 4 {
			l = gen.BrokenLine()
		}
		in.WriteString(l.Text + "\n")
		plants = append(plants, l.Plants...)
	}
	dir := t.TempDir()
	outputs := map[string]string{}
	for _, run := range []struct {
		name string
		cmd  func(args []string, stdin *strings.Reader, stdout, stderr *bytes.Buffer) int
		args []string
	}{
		{"jsonl", anonymizeCmd, []string{"--rejects", filepath.Join(dir, "rej-jsonl")}},
		{"combined", anonymizeCmd, []string{"--output", "combined", "--rejects", filepath.Join(dir, "rej-combined")}},
		{"wrong-format", anonymizeCmd, []string{"--input-format", "combined", "--rejects", filepath.Join(dir, "rej-wrong")}},
		{"stats", aggregateCmd, nil},
		{"stats-html", aggregateCmd, []string{"--output", "html"}},
	} {
		var out, errb bytes.Buffer
		if code := run.cmd(run.args, strings.NewReader(in.String()), &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", run.name, code, errb.String())
		}
		outputs[run.name] = out.String()
		outputs[run.name+" stderr"] = errb.String()
	}
	for _, name := range []string{"rej-jsonl", "rej-combined", "rej-wrong"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", name, err, len(b))
		}
		outputs[name] = string(b)
	}
	for name, out := range outputs {
		// One suffix array per output: each planted value is then a
		// lookup, not a scan of the whole output.
		low := suffixarray.New([]byte(strings.ToLower(out)))
		for _, p := range plants {
			// Five-digit postcodes can equal a response size by chance.
			if p.Category == piicorpus.Postcode && len(p.Value) == 5 {
				continue
			}
			if len(low.Lookup([]byte(strings.ToLower(p.Value)), 1)) > 0 {
				t.Errorf("%s: %s %q planted in %s survived", name, p.Category, p.Value, p.Field)
			}
		}
		if strings.HasSuffix(name, "stderr") {
			continue
		}
		var stdout, stderr bytes.Buffer
		if code := cmdAudit(nil, strings.NewReader(out), &stdout, &stderr); code != 0 {
			t.Errorf("audit of %s: exit %d\n%s", name, code, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := cmdAudit([]string{"--examples", "1"}, strings.NewReader(in.String()), &stdout, &stderr); code != 1 {
		t.Fatalf("audit of the raw corpus: exit %d", code)
	}
	for _, c := range []string{"email", "ip", "mac", "geo", "date", "phone", "card", "iban", "imei", "address", "token"} {
		if !strings.Contains(stdout.String(), "\n  "+c+" ") {
			t.Errorf("audit of the raw corpus finds no %s:\n%s", c, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "@") {
		t.Errorf("audit's examples show an email:\n%s", stdout.String())
	}
}

func anonymizeCmd(args []string, stdin *strings.Reader, stdout, stderr *bytes.Buffer) int {
	return cmdAnonymize(args, stdin, stdout, stderr)
}

func aggregateCmd(args []string, stdin *strings.Reader, stdout, stderr *bytes.Buffer) int {
	return cmdAggregate(args, stdin, stdout, stderr)
}
