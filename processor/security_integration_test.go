package processor_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// secureBroker is what `kafka-local.sh secure` prints: the TLS and SASL_SSL
// listeners of the test broker and the files a client needs.
type secureBroker struct {
	ssl, saslSSL   string
	ca, cert, key  string
	user, password string
}

func newSecureBroker(t *testing.T) secureBroker {
	t.Helper()
	b := brokers(t)
	ctl := os.Getenv("LOGVEIL_TEST_KAFKA_CTL")
	if ctl == "" {
		t.Skip("LOGVEIL_TEST_KAFKA_CTL is not set (path to deploy/kafka-local.sh, whose broker has the TLS and SASL listeners); CI sets it")
	}
	out, err := exec.Command(ctl, "secure").Output()
	if err != nil {
		t.Fatalf("%s secure: %v (the local broker's TLS/SASL listeners need openssl)", ctl, err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	sb := secureBroker{ssl: kv["ssl"], saslSSL: kv["sasl_ssl"], ca: kv["ca"], cert: kv["cert"], key: kv["key"],
		user: kv["user"], password: kv["password"]}
	// A data directory formatted before the script added SCRAM users lacks
	// them: upsert both over the plaintext listener (idempotent).
	c := &kafka.Client{Addr: kafka.TCP(b), Timeout: 20 * time.Second}
	for _, m := range []kafka.ScramMechanism{kafka.ScramMechanismSha256, kafka.ScramMechanismSha512} {
		// One credential per request: the broker refuses two for one user.
		resp, err := c.AlterUserScramCredentials(context.Background(), &kafka.AlterUserScramCredentialsRequest{
			Upsertions: []kafka.UserScramCredentialsUpsertion{{Name: sb.user, Mechanism: m, Iterations: 4096,
				Salt: []byte("logveil-test-salt"), SaltedPassword: saltedPassword(m, sb.password, "logveil-test-salt", 4096)}}})
		if err != nil {
			t.Fatalf("create SCRAM user: %v", err)
		}
		for _, r := range resp.Results {
			if r.Error != nil {
				t.Fatalf("create SCRAM user %s: %v", r.User, r.Error)
			}
		}
	}
	return sb
}

// saltedPassword is SCRAM's Hi(password, salt, i): PBKDF2 with the
// mechanism's hash (RFC 5802).
func saltedPassword(m kafka.ScramMechanism, password, salt string, iterations int) []byte {
	h, size := sha256.New, sha256.Size
	if m == kafka.ScramMechanismSha512 {
		h, size = sha512.New, sha512.Size
	}
	k, err := pbkdf2.Key(h, password, []byte(salt), iterations, size)
	if err != nil {
		panic(err)
	}
	return k
}

// kcatArgs are librdkafka's settings for one listener and mechanism. kcat
// authenticates with PLAIN where logveil uses SCRAM: librdkafka before 2.6.1
// (Debian's kcat links 2.0.2) builds a SCRAM proof Kafka 4 rejects
// (confluentinc/librdkafka#4895).
func (sb secureBroker) kcatArgs(mechanism string) []string {
	if strings.HasPrefix(mechanism, "scram") {
		mechanism = "plain"
	}
	if mechanism == "" {
		return []string{"-b", sb.ssl, "-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + sb.ca,
			"-X", "ssl.certificate.location=" + sb.cert, "-X", "ssl.key.location=" + sb.key}
	}
	return []string{"-b", sb.saslSSL, "-X", "security.protocol=sasl_ssl", "-X", "ssl.ca.location=" + sb.ca,
		"-X", "sasl.mechanisms=" + strings.ToUpper(mechanism), "-X", "sasl.username=" + sb.user, "-X", "sasl.password=" + sb.password}
}

// TestSecureListeners runs all three stages against the broker's TLS listener
// (client certificate) and its SASL_SSL listener with each mechanism, writes
// the raw lines and reads the statistics with kcat over the same listener,
// and checks a wrong password is a clear error that does not echo it.
func TestSecureListeners(t *testing.T) {
	sb := newSecureBroker(t)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(sb.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, mechanism string
		env             []string
	}{
		{"tls-client-certificate", "", []string{"LOGVEIL_KAFKA_TLS_CERT_FILE=" + sb.cert, "LOGVEIL_KAFKA_TLS_KEY_FILE=" + sb.key}},
		{"sasl-plain", "plain", []string{"LOGVEIL_KAFKA_SASL_PASSWORD=" + sb.password}},
		{"sasl-scram-sha-256", "scram-sha-256", []string{"LOGVEIL_KAFKA_SASL_PASSWORD=" + sb.password}},
		{"sasl-scram-sha-512-password-file", "scram-sha-512", []string{"LOGVEIL_KAFKA_SASL_PASSWORD_FILE=" + pwFile}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScenario(t, 2)
			s.runBrokers = sb.ssl
			env := []string{"LOGVEIL_KAFKA_TLS_ENABLED=true", "LOGVEIL_KAFKA_TLS_CA_FILE=" + sb.ca, "LOGVEIL_KAFKA_STATS_EMIT_INTERVAL=1s"}
			if tc.mechanism != "" {
				s.runBrokers = sb.saslSSL
				env = append(env, "LOGVEIL_KAFKA_SASL_MECHANISM="+tc.mechanism, "LOGVEIL_KAFKA_SASL_USERNAME="+sb.user)
			}
			env = append(env, tc.env...)
			lines := genLines(7, 500, 0)
			kcat := exec.Command("kcat", append([]string{"-P", "-t", s.raw}, sb.kcatArgs(tc.mechanism)...)...)
			kcat.Stdin = bytes.NewReader(lines)
			if out, err := kcat.CombinedOutput(); err != nil {
				t.Fatalf("kcat -P over %s: %v\n%s", s.runBrokers, err, out)
			}
			want := s.rawIDs()
			if len(want) != 500 {
				t.Fatalf("%d raw records for 500 lines", len(want))
			}
			s.start(env...)
			_, values := s.waitComplete(want, 90*time.Second)
			checkNoRawAddress(t, lines, values)

			// The merge stage's rows, read by a client over the secured listener.
			deadline := time.Now().Add(60 * time.Second)
			for {
				read := exec.Command("kcat", append([]string{"-C", "-t", s.prefix + ".stats", "-o", "beginning", "-e", "-q"}, sb.kcatArgs(tc.mechanism)...)...)
				out, err := read.Output()
				if err == nil && bytes.Contains(out, []byte(`"dimension":"total"`)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no statistics row read over %s after 60s (kcat: %v)", s.runBrokers, err)
				}
				time.Sleep(time.Second)
			}
			// logveil stats reads them with the same settings.
			stats := exec.Command(binary, "stats", "--brokers", s.runBrokers, "--topic-prefix", s.prefix, "--dimension", "total", "--json")
			stats.Env = append(os.Environ(), env...)
			out, err := stats.Output()
			if err != nil {
				t.Fatalf("logveil stats over %s: %v", s.runBrokers, err)
			}
			// Some window has views (one with fewer than k visitors, as the
			// hour the input only begins in, publishes none).
			views := int64(0)
			for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
				var row struct {
					Views int64 `json:"views"`
				}
				if err := json.Unmarshal(l, &row); err != nil {
					t.Fatalf("logveil stats: %v %q", err, l)
				}
				views += row.Views
			}
			if views == 0 {
				t.Fatalf("logveil stats: no views in %q", out)
			}
		})
	}

	t.Run("wrong-password", func(t *testing.T) {
		const wrong = "not-the-password-7f3a"
		cmd := exec.Command(binary, "stats", "--brokers", sb.saslSSL, "--topic-prefix", "lv-none")
		cmd.Env = append(os.Environ(), "LOGVEIL_KAFKA_TLS_ENABLED=true", "LOGVEIL_KAFKA_TLS_CA_FILE="+sb.ca,
			"LOGVEIL_KAFKA_SASL_MECHANISM=scram-sha-256", "LOGVEIL_KAFKA_SASL_USERNAME="+sb.user, "LOGVEIL_KAFKA_SASL_PASSWORD="+wrong)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("logveil stats with a wrong password succeeded:\n%s", out)
		}
		if !strings.Contains(strings.ToLower(string(out)), "authentication") {
			t.Errorf("the error does not say authentication failed:\n%s", out)
		}
		if strings.Contains(string(out), wrong) {
			t.Errorf("the password is echoed:\n%s", out)
		}
	})

	// Settings that can never work make logveil run exit with a clear
	// message instead of retrying for ever; readiness stays false.
	fatal := func(t *testing.T, brokers, want string, env ...string) {
		t.Helper()
		s := newScenario(t, 1)
		cmd := exec.Command(binary, "run", "--brokers", brokers, "--input-topics", s.raw, "--topic-prefix", s.prefix,
			"--group-id", s.group, "--listen", "-")
		cmd.Env = append(os.Environ(), env...)
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("logveil run still retrying after 60 s:\n%s", out)
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Fatalf("exit %v, want exit 1 with %q:\n%s", err, want, out)
		}
		if strings.Contains(string(out), "not-the-password") {
			t.Errorf("the password is echoed:\n%s", out)
		}
	}
	t.Run("run-wrong-password-exits", func(t *testing.T) {
		fatal(t, sb.saslSSL, "kafka authentication failed", "LOGVEIL_KAFKA_TLS_ENABLED=true", "LOGVEIL_KAFKA_TLS_CA_FILE="+sb.ca,
			"LOGVEIL_KAFKA_SASL_MECHANISM=scram-sha-512", "LOGVEIL_KAFKA_SASL_USERNAME="+sb.user, "LOGVEIL_KAFKA_SASL_PASSWORD=not-the-password-1")
	})
	t.Run("run-unknown-ca-exits", func(t *testing.T) {
		fatal(t, sb.ssl, "TLS verification of the broker failed", "LOGVEIL_KAFKA_TLS_ENABLED=true",
			"LOGVEIL_KAFKA_TLS_CERT_FILE="+sb.cert, "LOGVEIL_KAFKA_TLS_KEY_FILE="+sb.key)
	})
}
