package processor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
