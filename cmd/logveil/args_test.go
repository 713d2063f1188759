package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run calls a command as main would and returns its exit code and stderr.
func runCmd(name string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	var code int
	in := strings.NewReader("")
	switch name {
	case "run":
		code = cmdRun(args, &stderr)
	case "check-config":
		code = cmdCheckConfig(args, &stdout, &stderr)
	case "stats":
		code = cmdStats(args, &stdout, &stderr)
	case "audit":
		code = cmdAudit(args, in, &stdout, &stderr)
	case "anonymize":
		code = cmdAnonymize(args, in, &stdout, &stderr)
	case "aggregate":
		code = cmdAggregate(args, in, &stdout, &stderr)
	case "demo":
		code = cmdDemo(args, &stdout, &stderr)
	case "loggen":
		code = cmdLoggen(args, &stdout, &stderr)
	case "create-topic":
		code = cmdCreateTopic(args, &stdout, &stderr)
	default:
		panic(name)
	}
	return code, stdout.String(), stderr.String()
}

// TestArgumentsAreNeverIgnored: what a command does not use is refused with
// a message, never dropped.
func TestArgumentsAreNeverIgnored(t *testing.T) {
	f := func(want string, name string, args ...string) {
		t.Helper()
		code, _, stderr := runCmd(name, args...)
		if code != exitConfig || !strings.Contains(stderr, want) {
			t.Errorf("logveil %s %s: exit %d, stderr %q, want exit 2 with %q", name, strings.Join(args, " "), code, stderr, want)
		}
	}
	cfg := filepath.Join("..", "..", "deploy", "logveil.yaml")
	f(`flag --brokers after an argument`, "check-config", cfg, "--brokers", "q:1")
	f(`unexpected argument "`+cfg+`" (did you mean --config `+cfg+`?)`, "run", cfg, "--listen", "-")
	f(`flag --quiet after an argument ("x")`, "anonymize", "x", "--quiet")
	f(`flag --k after an argument ("x")`, "aggregate", "x", "--k", "2")
	f(`logveil.yaml is a config, not a log (did you mean --config`, "anonymize", cfg)
	f(`logveil.yaml is a config, not a log (did you mean --config`, "aggregate", cfg)
	f(`unexpected argument "x"`, "stats", "x")
	f(`unexpected argument "x"`, "demo", "x")
	f(`unexpected argument "x"`, "loggen", "x")
	f(`--dimension: "pages" is not one of total, page,`, "stats", "--dimension", "pages")
	f(`stats.k: 0: k must be at least 1 (1 turns k-anonymity off) (set by --k)`, "aggregate", "--k", "0")
	f(`flag --brokers after an argument`, "audit", "out.jsonl", "--brokers", "b:1")
	f(`both --config`, "check-config", "--config", "a.yaml", cfg)

	dir := t.TempDir()
	zero := filepath.Join(dir, "zero.yaml")
	os.WriteFile(zero, []byte("stats:\n  k: 0\n"), 0o644)
	f(`stats.k: 0: k must be at least 1 (1 turns k-anonymity off) (set by `+zero+`)`, "check-config", zero)
	f(`stats.k: 0: k must be at least 1`, "aggregate", "--config", zero)
	t.Setenv("LOGVEIL_STATS_K_SEARCH", "0")
	f(`stats.k_search: 0: k must be at least 1 (1 turns k-anonymity off) (set by LOGVEIL_STATS_K_SEARCH)`, "check-config")
}

// TestPrefixZeroEverywhere: a prefix of 0 (keep nothing of the address,
// anonip's --ipv4mask 32) is honoured the same way from a file, the
// environment and a flag.
func TestPrefixZeroEverywhere(t *testing.T) {
	line := `81.2.69.160 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"` + "\n"
	anon := func(env string, args ...string) string {
		t.Helper()
		if env != "" {
			k, v, _ := strings.Cut(env, "=")
			t.Setenv(k, v)
		}
		var stdout, stderr bytes.Buffer
		if code := cmdAnonymize(append(args, "--quiet", "--events-k", "1"), strings.NewReader(line), &stdout, &stderr); code != exitOK {
			t.Fatalf("anonymize %v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	prefix := filepath.Join(t.TempDir(), "prefix.yaml")
	os.WriteFile(prefix, []byte("anonymize:\n  ipv4_prefix: 0\n"), 0o644)
	for name, out := range map[string]string{"file": anon("", "--config", prefix), "flag": anon("", "--ipv4-prefix", "0"),
		"environment": anon("LOGVEIL_ANONYMIZE_IPV4_PREFIX=0")} {
		if !strings.Contains(out, `"client_network":"0.0.0.0/0"`) {
			t.Errorf("%s: %s", name, out)
		}
	}
}

func TestKOneWarns(t *testing.T) {
	code, _, stderr := runCmd("aggregate", "--k", "1")
	if code != exitOK || !strings.Contains(stderr, "k-anonymity is off") {
		t.Errorf("--k 1: exit %d, stderr %q", code, stderr)
	}
}

// TestHelpExitsZeroWithOwnFlags: every command's -h exits 0, gives an
// example and lists only the flags the command uses.
func TestHelpExitsZeroWithOwnFlags(t *testing.T) {
	for _, name := range []string{"run", "check-config", "stats", "audit", "anonymize", "aggregate", "demo", "loggen", "create-topic"} {
		code, _, stderr := runCmd(name, "-h")
		if code != exitOK || !strings.Contains(stderr, "Usage: logveil "+name) || !strings.Contains(stderr, "Example:") {
			t.Errorf("logveil %s -h: exit %d\n%s", name, code, stderr)
		}
	}
	_, _, stderr := runCmd("stats", "-h")
	for _, unused := range []string{"-stages", "-geoip", "-asn", "-input-topics", "-listen", "-group-id"} {
		if strings.Contains(stderr, unused+" ") {
			t.Errorf("logveil stats -h lists %s, which it does not use", unused)
		}
	}
	_, _, stderr = runCmd("audit", "-h")
	if strings.Contains(stderr, "-topic-prefix") || strings.Contains(stderr, "-stages") {
		t.Errorf("logveil audit -h lists flags it does not use:\n%s", stderr)
	}
}
