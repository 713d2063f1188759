package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

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
	out, _, code := runAnonymize(t, in, "--output", "combined", "--ipv6-prefix", "48", "--events-k", "1")
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
	out, _, code := runAnonymize(t, `81.2.69.200 - - [27/Nov/2026:10:15:32 +0100] "GET / HTTP/1.1" 200 1 "-" "-"`+"\n", "--config", cfg, "--ipv4-prefix", "8", "--events-k", "1")
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

// TestFilesAndCompression: anonymize and aggregate read logrotate's series
// given newest first, compressed or not, as the same lines in time order on
// stdin; --compress writes gzip and zstd that decompress to the plain output;
// error logs come out line for line.
func TestFilesAndCompression(t *testing.T) {
	var in bytes.Buffer
	loggen.New(loggen.Options{Seed: 5}).WriteN(&in, 3000)
	all := in.String()
	lines := strings.SplitAfter(all, "\n")
	dir := t.TempDir()
	put := func(name, s string, compress bool) string {
		p := filepath.Join(dir, name)
		var b bytes.Buffer
		if compress {
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(s))
			zw.Close()
		} else {
			b.WriteString(s)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	live := put("access.log", strings.Join(lines[2000:], ""), false)
	one := put("access.log.1", strings.Join(lines[1000:2000], ""), false)
	two := put("access.log.2.gz", strings.Join(lines[:1000], ""), true)

	want, _, code := runAnonymize(t, all, "--output", "combined", "--quiet")
	got, stderr, code2 := runAnonymize(t, "", "--output", "combined", live, one, two)
	if code != 0 || code2 != 0 || got != want || !strings.Contains(stderr, "3000 lines in, 3000 out") {
		t.Errorf("files: exit %d, output equal to stdin's: %v, %s", code2, got == want, stderr)
	}
	for _, c := range []string{"gzip", "zstd"} {
		out, stderr, code := runAnonymize(t, all, "--output", "combined", "--compress", c)
		if code != 0 {
			t.Fatalf("--compress %s: exit %d: %s", c, code, stderr)
		}
		back, stderr, code := runAnonymize(t, out, "--output", "combined", "--quiet", "--input-format", "combined")
		// Anonymizing the anonymized lines again reads them through the
		// decompressor: same count, no rejects.
		if code != 0 || strings.Count(back, "\n") != 3000 || strings.Contains(stderr, "rejected") {
			t.Errorf("--compress %s: read back %d lines, exit %d: %s", c, strings.Count(back, "\n"), code, stderr)
		}
	}
	if _, stderr, code := runAnonymize(t, "", filepath.Join(dir, "nope.log")); code != exitIO || !strings.Contains(stderr, "nope.log") {
		t.Errorf("a missing file: exit %d, %q", code, stderr)
	}
	var aggPlain, aggFiles, errb bytes.Buffer
	if code := cmdAggregate([]string{"--quiet"}, strings.NewReader(all), &aggPlain, &errb); code != 0 {
		t.Fatalf("aggregate: %s", errb.String())
	}
	if code := cmdAggregate([]string{"--quiet", live, one, two}, nil, &aggFiles, &errb); code != 0 {
		t.Fatalf("aggregate files: %s", errb.String())
	}
	if aggPlain.String() != aggFiles.String() || aggPlain.Len() == 0 {
		t.Error("aggregate of the rotated files differs from aggregate of the lines in order")
	}
	// Error logs, auto-detected among access lines, one line out per line in.
	mixed := lines[0] + `2026/11/28 10:12:31 [error] 7#7: *1 open() "/srv/x" failed, client: 81.2.69.5, server: shop.example, request: "GET /u/jdoe HTTP/1.1"` + "\n" +
		`[Sat Nov 28 10:12:31.123456 2026] [core:error] [pid 1:tid 2] [client 81.2.69.5:51234] AH00126: Invalid URI, referer: https://a.example/x` + "\n"
	out, _, code := runAnonymize(t, mixed, "--output", "combined", "--quiet", "--events-k", "1")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "client: 81.2.69.0") || !strings.Contains(out, "[client 81.2.69.0]") ||
		strings.Contains(out, "jdoe") || strings.Contains(out, "81.2.69.5") {
		t.Errorf("error lines: exit %d\n%s", code, out)
	}
}

// TestAggregateRerunsSame: two runs of logveil aggregate (two processes)
// over one file print the same rows — also where visitors are counted by
// sketches, and under differential privacy with a noise key; without a
// key differential privacy is refused (exit 2).
func TestAggregateRerunsSame(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "access.log")
	var b bytes.Buffer
	loggen.New(loggen.Options{Seed: 22, Rate: 50, Visitors: 20000, Pages: 2000}).WriteN(&b, 60000)
	os.WriteFile(in, b.Bytes(), 0o644)
	key := filepath.Join(dir, "noise.key")
	os.WriteFile(key, bytes.Repeat([]byte("k"), 32), 0o600)
	run := func(env ...string) (string, int) {
		cmd := exec.Command(testBinary(t), "aggregate", "--quiet", in)
		cmd.Env = append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), code
	}
	for _, env := range [][]string{nil, {"LOGVEIL_STATS_PRIVACY=differential", "LOGVEIL_STATS_NOISE_KEY_FILE=" + key}} {
		a, code := run(env...)
		if code != 0 || a == "" {
			t.Fatalf("%v: exit %d", env, code)
		}
		if b, _ := run(env...); a != b {
			t.Errorf("%v: two runs over one file print different rows", env)
		}
	}
	if _, code := run("LOGVEIL_STATS_PRIVACY=differential"); code != exitConfig {
		t.Errorf("differential privacy without a noise key: exit %d", code)
	}
}
