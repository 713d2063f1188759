package processor

import (
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
	c, err := loadConfig(path, []string{"LOGVEIL_KAFKA_GROUP_ID=from-env", "LOGVEIL_KAFKA_INPUT_TOPICS=a, b", "LOGVEIL_ANONYMIZE_IPV6_PREFIX=48",
		"LOGVEIL_KAFKA_LINGER=20ms", "LOGVEIL_KAFKA_VISITS=false", "LOGVEIL_TEST_BROKERS=ignored", "PATH=/bin", "LOGVEIL_STATS_EPSILON=0.5"})
	if err != nil {
		t.Fatal(err)
	}
	c, err = c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "file:9092" || c.Kafka.GroupID != "from-env" || strings.Join(c.Kafka.InputTopics, "|") != "a|b" ||
		c.Anonymize.IPv4Prefix != 16 || c.Anonymize.IPv6Prefix != 48 || c.Kafka.Linger != 20*time.Millisecond || c.Kafka.VisitsEnabled() ||
		c.Stats.Epsilon != 0.5 {
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
