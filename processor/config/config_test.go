package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("kafka:\n  brokers: [file:9092]\n  group_id: from-file\n  sasl:\n    mechanism: plain\n    username: u\n    password: hunter2\nanonymize:\n  ipv4_prefix: 16\n"), 0o600)
	c, err := Load(path, []string{"LOGVEIL_KAFKA_GROUP_ID=from-env", "LOGVEIL_KAFKA_INPUT_TOPICS=a, b", "LOGVEIL_ANONYMIZE_IPV6_PREFIX=48",
		"LOGVEIL_KAFKA_LINGER=20ms", "LOGVEIL_KAFKA_VISITS=false", "LOGVEIL_TEST_BROKERS=ignored", "PATH=/bin", "LOGVEIL_STATS_EPSILON=0.5",
		"LOGVEIL_STATS_WINDOWS=30m, 2h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "file:9092" || c.Kafka.GroupID != "from-env" || strings.Join(c.Kafka.InputTopics, "|") != "a|b" ||
		c.Anonymize.IPv4Prefix != 16 || c.Anonymize.IPv6Prefix != 48 || c.Kafka.Linger != 20*time.Millisecond || c.Kafka.Visits ||
		c.Stats.Epsilon != 0.5 || fmt.Sprint(c.Stats.Windows) != "[30m0s 2h0m0s]" {
		t.Errorf("layers not applied: %+v", c)
	}
	// What the file and the environment leave alone keeps its default.
	if c.Kafka.TopicPrefix != "logveil" || c.Stats.K != 5 || c.Anonymize.QueryAllow[0] != "utm_source" {
		t.Errorf("defaults lost: %+v", c)
	}
	y, _ := c.EffectiveYAML()
	if strings.Contains(string(y), "hunter2") || !strings.Contains(string(y), "password: '***'") {
		t.Errorf("secret not masked:\n%s", y)
	}
}

func TestConfigErrors(t *testing.T) {
	f := func(env, want string) {
		t.Helper()
		c, err := Load("", []string{env})
		if err == nil {
			var s Settings
			if s, err = c.Resolve(); err == nil {
				err = s.CheckStream()
			}
			err = c.Explain(err)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", env, err, want)
		}
	}
	f("LOGVEIL_KAFKA_BROKRS=x:1", "LOGVEIL_KAFKA_BROKRS is not a logveil setting")
	f("LOGVEIL_KAFKA_COMPRESSION=brotli", `kafka.compression: "brotli"`)
	f("LOGVEIL_KAFKA_BROKERS=nohost", `kafka.brokers: "nohost" has no port`)
	f("LOGVEIL_KAFKA_PARTITIONS=0x", `LOGVEIL_KAFKA_PARTITIONS="0x"`)
	f("LOGVEIL_KAFKA_INPUT_TOPICS=logveil.raw", `every topic named logveil.* is reserved`)
	f("LOGVEIL_KAFKA_SASL_MECHANISM=gssapi", `kafka.sasl.mechanism: "gssapi"`)
	f("LOGVEIL_KAFKA_SALT_RETENTION=1h", "kafka.salt_retention")
	f("LOGVEIL_ANONYMIZE_IPV4_PREFIX=30", "anonymize.ipv4_prefix: 30")
	f("LOGVEIL_KAFKA_CHUNK_BYTES=100", "kafka.chunk_bytes: 100 is out of range 4096..67108864")
	f("LOGVEIL_KAFKA_SESSION_TIMEOUT=2h", "kafka.session_timeout: 2h is out of range 1s..1h")
	f("LOGVEIL_STATS_WINDOWS=7m", "stats.windows: 7m0s")
	// A key written as 0 is 0, and refused where 0 is out of range: it
	// does not fall back to the default.
	f("LOGVEIL_STATS_K=0", "stats.k: 0: k must be at least 1 (1 turns k-anonymity off) (set by LOGVEIL_STATS_K)")
	f("LOGVEIL_STATS_WINDOWS=48h", "kafka.partials_retention: 48h does not outlast")
	f("LOGVEIL_STATS_MAX_VALUES=0", "stats.max_values: 0")
	f("LOGVEIL_KAFKA_PARTITIONS=0", "kafka.partitions: 0 is out of range")
}

// TestZeroIsAValue: 0 where 0 means something is honoured on every path
// (a prefix of 0 keeps nothing of the address).
func TestZeroIsAValue(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("anonymize:\n  ipv4_prefix: 0\nstats:\n  k: 0\n"), 0o600)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Anonymize.IPv4Prefix != 0 || c.Stats.K != 0 {
		t.Fatalf("zeros read as %d and %d", c.Anonymize.IPv4Prefix, c.Stats.K)
	}
	if _, err := c.Resolve(); err == nil || !strings.Contains(err.Error(), "stats.k: 0") {
		t.Errorf("k: 0 resolved: %v", err)
	}
	c.Stats.K = 5
	s, err := c.Resolve()
	if err != nil || s.Anonymize.IPv4Prefix != 0 || s.Stats.Masks.IPv4 != 0 {
		t.Errorf("ipv4_prefix 0: %+v %v", s.Anonymize.Config, err)
	}
}

// TestBinder: flags override the environment, which overrides the file;
// a flag of the wrong type is refused when parsed; flags not given change
// nothing; -h shows each key's default from Default.
func TestBinder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("kafka:\n  brokers: [file:9092]\n  group_id: file\nstats:\n  k: 7\n"), 0o600)
	t.Setenv("LOGVEIL_KAFKA_GROUP_ID", "env")
	t.Setenv("LOGVEIL_STATS_K", "8")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var help strings.Builder
	fs.SetOutput(&help)
	Bind(fs, "kafka.brokers", "kafka.group_id", "stats.k", "stats.windows", "anonymize.country_db")
	if err := fs.Parse([]string{"--config", path, "--k", "9", "--window", "1h,1d"}); err == nil {
		t.Fatal("--window 1d parsed")
	}
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(&help)
	b := Bind(fs, "kafka.brokers", "kafka.group_id", "stats.k", "stats.windows", "anonymize.country_db")
	if err := fs.Parse([]string{"--config", path, "--k", "9", "--window", "1h, 30m"}); err != nil {
		t.Fatal(err)
	}
	c, err := b.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "file:9092" || c.Kafka.GroupID != "env" || c.Stats.K != 9 || fmt.Sprint(c.Stats.Windows) != "[1h0m0s 30m0s]" || c.Anonymize.CountryDB != "" {
		t.Errorf("layers: %+v", c)
	}
	fs.PrintDefaults()
	if !strings.Contains(help.String(), "(default 5)") || !strings.Contains(help.String(), "(stats.k)") || !strings.Contains(help.String(), "(default 1h, 24h)") {
		t.Errorf("flag help does not show the defaults:\n%s", help.String())
	}
}

func TestSecurityBuilders(t *testing.T) {
	for _, m := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		mech, err := buildSASL(SASL{Mechanism: m, Username: "u", Password: "p"})
		if err != nil || mech == nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)
	if _, err := buildSASL(SASL{Mechanism: "plain", Username: "u", PasswordFile: pw}); err != nil {
		t.Error(err)
	}
	if _, err := buildSASL(SASL{Mechanism: "plain", Username: "u", PasswordFile: "/nonexistent"}); err == nil {
		t.Error("missing password file accepted")
	}
	if _, err := buildTLS(TLS{Enabled: true, CAFile: pw}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
}

// TestREADMEConfigReference: README's configuration block is Reference:
// every key, in the table's order, with the default Default gives it and
// the table's note.
func TestREADMEConfigReference(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Configuration")
	j := strings.Index(s[i:], "```yaml\n")
	k := strings.Index(s[i+j+8:], "```")
	block := s[i+j+8 : i+j+8+k]
	if want := Reference(); block != want {
		if os.Getenv("LOGVEIL_TEST_WRITE_README") == "1" {
			os.WriteFile("../../README.md", []byte(s[:i+j+8]+want+s[i+j+8+k:]), 0o644)
			t.Fatal("README's configuration block rewritten: run the test again")
		}
		t.Errorf("README's configuration block is not Reference() (LOGVEIL_TEST_WRITE_README=1 writes it):\n%s", want)
	}
	// The reference is YAML that reads back as the defaults.
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(block))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("the reference is not a config: %v", err)
	}
	if got, want := fmt.Sprintf("%+v", c), fmt.Sprintf("%+v", Default()); got != want {
		t.Errorf("the reference reads back as\n%s\nnot the defaults\n%s", got, want)
	}
}

// TestKeysCoverConfig: the key table has a row for every key of Config,
// each once, and every row names a key; flags are unique.
func TestKeysCoverConfig(t *testing.T) {
	have := map[string]bool{}
	for _, p := range paths() {
		have[p] = true
		if keyByPath[p] == nil {
			t.Errorf("config key %s has no row in keys", p)
		}
	}
	flags := map[string]bool{}
	for _, k := range keys {
		if !have[k.path] {
			t.Errorf("keys has a row for %s, which Config does not have", k.path)
		}
		if k.help == "" {
			t.Errorf("%s has no note", k.path)
		}
		if k.flag != "" && flags[k.flag] {
			t.Errorf("flag --%s names two keys", k.flag)
		}
		flags[k.flag] = true
	}
	if len(keys) != len(have) {
		t.Errorf("%d rows for %d keys", len(keys), len(have))
	}
	// Default resolves, and every key's environment variable reads.
	if _, err := Default().Resolve(); err != nil {
		t.Errorf("the defaults do not resolve: %v", err)
	}
	if EnvName("kafka.sasl.password_file") != "LOGVEIL_KAFKA_SASL_PASSWORD_FILE" || envPaths["LOGVEIL_STATS_K"] != "stats.k" {
		t.Error("environment names")
	}
}
