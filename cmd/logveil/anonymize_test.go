package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logveil/logveil/internal/loggen"
)

func runAnonymize(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cmdAnonymize(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestAnonymizeOrderAndCounts(t *testing.T) {
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 3, Malformed: 0.01}).WriteN(&in, 60000)
	rej := filepath.Join(t.TempDir(), "rej.txt")
	one, _, code := runAnonymize(t, in.String(), "--workers", "1", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	many, stderr, code := runAnonymize(t, in.String(), "--workers", "4", "--rejects", rej)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if one != many {
		t.Fatal("output with 4 workers differs from 1 worker: order not preserved")
	}
	lines := strings.Count(many, "\n")
	rejData, _ := os.ReadFile(rej)
	// Empty malformed lines are counted but have nothing to set aside.
	if !strings.Contains(stderr, "60000 lines in, "+itoa(lines)+" out") {
		t.Errorf("summary %q does not match %d output lines", stderr, lines)
	}
	if lines >= 60000 || lines < 59000 {
		t.Errorf("%d lines out of 60000 with 1%% malformed", lines)
	}
	if bytes.Contains(rejData, []byte("203.0.113.9")) || bytes.Contains(rejData, []byte("user@example.com")) {
		t.Errorf("rejects file holds an identifier:\n%s", rejData)
	}
	if !bytes.Contains(rejData, []byte("{ip}")) {
		t.Errorf("rejects file has no redacted lines:\n%.200s", rejData)
	}
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestAnonymizeStrictAndLongLines(t *testing.T) {
	good := `81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 "-" "` + strings.Repeat("A", 100<<10) + `"` + "\n"
	out, _, code := runAnonymize(t, good)
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("100 KB line: exit %d, %d lines out", code, strings.Count(out, "\n"))
	}
	huge := strings.Repeat("x", 2<<20) + "\n"
	_, stderr, code := runAnonymize(t, good+huge+good, "--strict")
	if code != exitRejected {
		t.Errorf("--strict with a rejected line: exit %d, want %d", code, exitRejected)
	}
	if !strings.Contains(stderr, "1 line longer than the configured maximum") {
		t.Errorf("summary: %s", stderr)
	}
	out, _, code = runAnonymize(t, good+huge+good)
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("without --strict: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
}

func TestAnonymizeCombinedOutput(t *testing.T) {
	in := `2001:db8:1:2::3 - alice [27/Nov/2026:10:15:32 +0100] "GET /u/alice@example.com?q=x HTTP/1.1" 200 1 "-" "curl/8.0"` + "\n"
	out, _, code := runAnonymize(t, in, "--output", "combined", "--ipv6-prefix", "48")
	want := `2001:db8:1:: - - [27/Nov/2026:10:15:32 +0100] "GET /u/{email} HTTP/1.1" 200 1 "-" "Other (Other; Bot)"` + "\n"
	if code != 0 || out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestAnonymizeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	f := func(wantCode int, want string, args ...string) {
		t.Helper()
		_, stderr, code := runAnonymize(t, "", args...)
		if code != wantCode || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", args, code, stderr, wantCode, want)
		}
	}
	f(exitConfig, "ipv4_prefix: 40", "--ipv4-prefix", "40")
	f(exitConfig, `--output: "xml"`, "--output", "xml")
	f(exitConfig, "field ipv4_prefx not found", "--config", write("typo.yaml", "anonymize:\n  ipv4_prefx: 16\n"))
	f(exitConfig, `time_precision: "week"`, "--config", write("bad.yaml", "anonymize:\n  time_precision: week\n"))
	f(exitConfig, "cannot read config", "--config", filepath.Join(dir, "missing.yaml"))
	f(exitConfig, "country_db", "--geoip", filepath.Join(dir, "missing.mmdb"))
	// Flags override the file.
	cfg := write("ok.yaml", "anonymize:\n  ipv4_prefix: 16\n  policy_version: p7\n")
	out, _, code := runAnonymize(t, `81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 "-" "-"`+"\n", "--config", cfg, "--ipv4-prefix", "8")
	if code != 0 || !strings.Contains(out, `"client_network":"81.0.0.0/8"`) || !strings.Contains(out, `"policy_version":"p7"`) {
		t.Errorf("flag over file: %s", out)
	}
}

func TestAggregateOutputHTML(t *testing.T) {
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 9}).WriteN(&in, 5000)
	var out, errb bytes.Buffer
	if code := cmdAggregate([]string{"--output", "html", "--quiet"}, &in, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	page := out.String()
	if !strings.HasPrefix(page, "<!doctype html>") || !strings.Contains(page, `"dimension":"total"`) || !strings.Contains(page, "logveil aggregate of 5000 lines") {
		t.Errorf("not a report of the rows: %.300s", page)
	}
	if code := cmdAggregate([]string{"--output", "xml"}, strings.NewReader(""), &out, &errb); code != exitConfig || !strings.Contains(errb.String(), `--output "xml"`) {
		t.Errorf("--output xml: exit %d, %s", code, errb.String())
	}
}
