package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

// Settings is a resolved Config: what each component runs, checked once.
type Settings struct {
	// Config is the configuration as given (check-config prints it).
	Config
	Anonymize transforms.Policy
	Stats     stats.Params
	Kafka     KafkaSettings
	// MemoryLimit is the Go runtime's soft limit to set (0: none) and
	// MemoryFrom what it comes from (ApplyMemoryLimit).
	MemoryLimit int64
	MemoryFrom  string
}

// KafkaSettings are the Kafka section with its security and compression
// built.
type KafkaSettings struct {
	Kafka
	TLSConfig *tls.Config    // nil: plain TCP
	Mechanism sasl.Mechanism // nil: no SASL
	Codec     compress.Compression
}

// Runs reports whether the process runs stage s.
func (s Settings) Runs(stage string) bool { return slices.Contains(s.Stages, stage) }

// Resolve checks every key, naming the key and the value, and returns the
// components' settings: the anonymize section as a transforms.Policy (its
// pseudonyms' day in the statistics' time zone), the statistics' Params
// (with the prefixes in force and the noise key), the Kafka options with
// TLS, SASL and the codec built, the memory limit.
func (c Config) Resolve() (Settings, error) {
	s := Settings{Config: c}
	var err error
	if s.Anonymize, err = c.Anonymize.Resolve(); err != nil {
		return s, fmt.Errorf("anonymize.%w", err)
	}
	if s.Stats, err = c.Stats.Resolve(); err != nil {
		return s, err
	}
	s.Anonymize.DayZone = s.Stats.Location()
	s.Stats.Masks = stats.Masks{IPv4: c.Anonymize.IPv4Prefix, IPv6: c.Anonymize.IPv6Prefix, Stated: true}
	s.Stats.EventsK = c.Anonymize.EventsK
	if s.MemoryLimit, s.MemoryFrom, err = c.memoryLimit(); err != nil {
		return s, err
	}
	if err := checkLimits(&c); err != nil {
		return s, err
	}
	k := &c.Kafka
	if len(c.Stages) == 0 {
		s.Stages = []string{StageAnonymize}
		if k.Visits {
			s.Stages = append(s.Stages, StageAggregate, StageMerge)
		}
		if c.Anonymize.EventsK > 1 {
			s.Stages = append(s.Stages, StageCensus)
		}
	}
	for _, st := range s.Stages {
		if st != StageAnonymize && st != StageAggregate && st != StageMerge && st != StageCensus {
			return s, fmt.Errorf("stages: %q is not anonymize, aggregate, merge or census", st)
		}
	}
	if len(k.Brokers) == 0 {
		return s, fmt.Errorf("kafka.brokers: none")
	}
	for _, b := range k.Brokers {
		if !strings.Contains(b, ":") {
			return s, fmt.Errorf("kafka.brokers: %q has no port", b)
		}
	}
	if k.TopicPrefix == "" || strings.ContainsAny(k.TopicPrefix, "/ ,;") {
		return s, fmt.Errorf("kafka.topic_prefix: %q is empty or not a topic name", k.TopicPrefix)
	}
	if len(k.InputTopics) == 0 && s.Runs(StageAnonymize) {
		return s, fmt.Errorf("kafka.input_topics: none")
	}
	for _, t := range k.InputTopics {
		switch {
		case t == "":
			return s, fmt.Errorf("kafka.input_topics: an empty topic name")
		case strings.HasPrefix(t, k.TopicPrefix+"."):
			return s, fmt.Errorf("kafka.input_topics: %q is under kafka.topic_prefix %q: every topic named %s.* is reserved for logveil's own outputs; rename the input or choose another prefix",
				t, k.TopicPrefix, k.TopicPrefix)
		}
	}
	if k.GroupID == "" || k.ClientID == "" {
		return s, fmt.Errorf("kafka.group_id and kafka.client_id: empty")
	}
	if k.InflightBytes < 2*k.ChunkBytes {
		return s, fmt.Errorf("kafka.inflight_bytes: %d is less than twice kafka.chunk_bytes (%d)", k.InflightBytes, k.ChunkBytes)
	}
	if s.Kafka.Codec, err = codec(k.Compression); err != nil {
		return s, err
	}
	if s.Kafka.Mechanism, err = buildSASL(k.SASL); err != nil {
		return s, err
	}
	if k.SASL.Mechanism != "" && k.SASL.Username == "" {
		return s, fmt.Errorf("kafka.sasl.username: empty with mechanism %q", k.SASL.Mechanism)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		return s, fmt.Errorf("kafka.tls: cert_file and key_file go together")
	}
	if k.TLS.Enabled {
		if s.Kafka.TLSConfig, err = buildTLS(k.TLS); err != nil {
			return s, err
		}
	}
	s.Kafka.Kafka = *k
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return s, fmt.Errorf("log_format: %q is not text or json", c.LogFormat)
	}
	if c.HTTP.Listen == "" {
		return s, fmt.Errorf("http.listen: empty (\"-\" disables the endpoint)")
	}
	return s, nil
}

// CheckStream checks what only the stream processor (logveil run, the
// demo) needs: a noise key for a merge stage under differential privacy,
// the visits topic for the aggregate stage, and retentions that outlast a
// restart's replay. NewRunner calls it.
func (s Settings) CheckStream() error {
	k := &s.Kafka
	if s.Stats.Differential() && s.Runs(StageMerge) && s.Stats.NoiseKey == nil {
		return fmt.Errorf("stats.noise_key_file: required with stats.privacy differential, so that every merger derives the same noise (head -c 32 /dev/urandom > noise.key; keep it from analytics consumers)")
	}
	if s.Runs(StageAnonymize) && s.Runs(StageAggregate) && !k.Visits {
		return fmt.Errorf("stages: aggregate reads <prefix>.visits, which kafka.visits: false turns off")
	}
	var longest time.Duration
	for _, w := range s.Stats.Windows {
		longest = max(longest, w)
	}
	need := longest + s.Stats.Lateness + time.Hour
	if k.PartialsRetention < need {
		return fmt.Errorf("kafka.partials_retention: %s does not outlast the largest window plus lateness plus an hour (%s)",
			shortDuration(k.PartialsRetention), shortDuration(need))
	}
	if s.Runs(StageAggregate) && k.VisitsRetention < need {
		return fmt.Errorf("kafka.visits_retention: %s does not outlast the largest window plus lateness plus an hour (%s): a restart replays an open window's visits",
			shortDuration(k.VisitsRetention), shortDuration(need))
	}
	return nil
}

// MustResolve is Resolve for a Config known to be valid (tests, tools).
func (c Config) MustResolve() Settings {
	s, err := c.Resolve()
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return s
}

func codec(name string) (compress.Compression, error) {
	switch name {
	case "zstd":
		return kafka.Zstd, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "none":
		return 0, nil
	}
	return 0, fmt.Errorf("kafka.compression: %q is not zstd, gzip, snappy, lz4 or none", name)
}

func buildTLS(c TLS) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", c.CAFile)
		}
		t.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

func buildSASL(c SASL) (sasl.Mechanism, error) {
	if c.Mechanism == "" {
		return nil, nil
	}
	pw := c.Password
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl.password_file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	switch c.Mechanism {
	case "plain":
		return plain.Mechanism{Username: c.Username, Password: pw}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, c.Username, pw)
	case "scram-sha-512":
		return scram.Mechanism(scram.SHA512, c.Username, pw)
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not plain, scram-sha-256 or scram-sha-512", c.Mechanism)
}
