package processor

import (
	"fmt"
	"maps"
	"math"
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
	c, err := loadConfig(path, []string{"LOGVEIL_KAFKA_GROUP_ID=from-env", "LOGVEIL_KAFKA_INPUT_TOPICS=a, b", "LOGVEIL_ANONYMIZE_IPV6_PREFIX=48",
		"LOGVEIL_KAFKA_LINGER=20ms", "LOGVEIL_KAFKA_VISITS=false", "LOGVEIL_TEST_BROKERS=ignored", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	c, err = c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "file:9092" || c.Kafka.GroupID != "from-env" || strings.Join(c.Kafka.InputTopics, "|") != "a|b" ||
		c.Anonymize.IPv4Prefix != 16 || c.Anonymize.IPv6Prefix != 48 || c.Kafka.Linger != 20*time.Millisecond || c.Kafka.VisitsEnabled() {
		t.Errorf("layers not applied: %+v", c.Kafka)
	}
	y, _ := c.EffectiveYAML()
	if strings.Contains(string(y), "hunter2") || !strings.Contains(string(y), "password: '***'") {
		t.Errorf("secret not masked:\n%s", y)
	}
}

func TestConfigErrors(t *testing.T) {
	f := func(env, want string) {
		t.Helper()
		c, err := loadConfig("", []string{env})
		if err == nil {
			_, err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", env, err, want)
		}
	}
	f("LOGVEIL_KAFKA_BROKRS=x:1", "LOGVEIL_KAFKA_BROKRS is not a logveil setting")
	f("LOGVEIL_KAFKA_COMPRESSION=brotli", `kafka.compression: "brotli"`)
	f("LOGVEIL_KAFKA_BROKERS=nohost", `kafka.brokers: "nohost" has no port`)
	f("LOGVEIL_KAFKA_PARTITIONS=0x", `LOGVEIL_KAFKA_PARTITIONS="0x"`)
	f("LOGVEIL_KAFKA_INPUT_TOPICS=logveil.events", "kafka.input_topics")
	f("LOGVEIL_KAFKA_SASL_MECHANISM=gssapi", `kafka.sasl.mechanism: "gssapi"`)
	f("LOGVEIL_KAFKA_SALT_RETENTION=1h", "kafka.salt_retention")
	f("LOGVEIL_ANONYMIZE_IPV4_PREFIX=30", "anonymize.ipv4_prefix: 30")
}

func TestSecurityBuilders(t *testing.T) {
	for _, m := range []string{"plain", "scram-sha-256", "scram-sha-512"} {
		mech, err := buildSASL(SASLConfig{Mechanism: m, Username: "u", Password: "p"})
		if err != nil || mech == nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)
	if _, err := buildSASL(SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: pw}); err != nil {
		t.Error(err)
	}
	if _, err := buildSASL(SASLConfig{Mechanism: "plain", Username: "u", PasswordFile: "/nonexistent"}); err == nil {
		t.Error("missing password file accepted")
	}
	if _, err := buildTLS(TLSConfig{Enabled: true, CAFile: pw}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA file: %v", err)
	}
}

// TestREADMEConfigReference: every key in README's configuration block
// exists in the code with the default it states, and every key in the code
// is in the block.
func TestREADMEConfigReference(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "## Configuration")
	j := strings.Index(s[i:], "```yaml\n")
	k := strings.Index(s[i+j+8:], "```")
	block := s[i+j+8 : i+j+8+k]
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("README config block is not YAML: %v", err)
	}
	documented := map[string]any{}
	flatten("", doc, documented)

	// The defaults, as check-config renders them.
	cfg, err := Config{}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	y, _ := yaml.Marshal(cfg)
	var def map[string]any
	yaml.Unmarshal(y, &def)
	code := map[string]any{}
	flatten("", def, code)

	for key, v := range documented {
		cv, ok := code[key]
		if !ok {
			t.Errorf("README documents %s, which the code does not have", key)
			continue
		}
		if norm(v) != norm(cv) {
			t.Errorf("README says %s defaults to %v, the code to %v", key, v, cv)
		}
	}
	for key := range code {
		if _, ok := documented[key]; !ok {
			t.Errorf("config key %s is not documented in README", key)
		}
	}
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
}

// norm compares values across YAML spellings: "168h" and "168h0m0s",
// [] and null.
func norm(v any) string {
	switch x := v.(type) {
	case nil:
		return "[]"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = norm(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case string:
		if d, err := time.ParseDuration(x); err == nil {
			return d.String()
		}
	}
	return fmt.Sprint(v)
}

func TestCommitMetadataRoundTrip(t *testing.T) {
	wm := map[string]int64{"access-logs/0": 1795785801, "access-logs/11": -5, "error.logs/3": math.MinInt64, "error.logs/4": math.MaxInt64}
	pos, got, ok := decodeMeta("a1", encodeMeta("a1", 42, wm))
	if !ok || pos != 42 || !maps.Equal(got, wm) {
		t.Fatalf("round trip: %v %v %v", pos, got, ok)
	}
	merge := map[string]int64{"0": 7, "1": 1795785801, "35": 1795785790}
	if _, got, ok := decodeMeta("m1", encodeMeta("m1", 9, merge)); !ok || !maps.Equal(got, merge) {
		t.Fatalf("merge stage round trip: %v %v", got, ok)
	}
	// Sources that are not "topic/number" are written in the first form.
	odd := map[string]int64{"x": 1, "a/b": 2}
	if enc := encodeMeta("a1", 1, odd); enc != "a1 1 a/b=2,x=1" {
		t.Errorf("first form: %q", enc)
	}
	// What an earlier version committed (the first form) is still read.
	if pos, got, ok := decodeMeta("a1", "a1 42 access-logs/0=1795785801,access-logs/11=-5"); !ok || pos != 42 ||
		!maps.Equal(got, map[string]int64{"access-logs/0": 1795785801, "access-logs/11": -5}) {
		t.Errorf("first form: %v %v %v", pos, got, ok)
	}
	for _, bad := range []string{"", "a1", "m1 5 ", "a1 x", "a1 5 a=1,b", "a1 5 a=x", "a1 5 x t/1.2", "a1 5 9 t/1", "a1 5 9 t/1.!", "a1 5 9 t/!.1", "a1 5 9 t/1.2 extra"} {
		if _, _, ok := decodeMeta("a1", bad); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	if pos, wm, ok := decodeMeta("m1", "m1 9"); !ok || pos != 9 || len(wm) != 0 {
		t.Errorf("no watermarks: %v %v %v", pos, wm, ok)
	}
	// Kafka's default offset.metadata.max.bytes is 4096: 500 raw partitions
	// of three topics, watermarks within an hour of each other, fit.
	many := map[string]int64{}
	for i := range 500 {
		many[fmt.Sprintf("%s/%d", []string{"access-logs", "nginx-eu", "nginx-us"}[i%3], i/3)] = 1795785801 - int64(i*131%3600)
	}
	enc := encodeMeta("a1", 123456789, many)
	if len(enc) > 4096 {
		t.Errorf("500 partitions: %d bytes of metadata", len(enc))
	}
	if _, got, ok := decodeMeta("a1", enc); !ok || !maps.Equal(got, many) {
		t.Error("500 partitions: round trip differs")
	}
}
