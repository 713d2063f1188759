package processor

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

// Config is logveil's whole configuration, as read from a YAML file and then
// overridden by LOGVEIL_* environment variables and command-line flags. Keys
// not listed here are an error, so a typo cannot silently fall back to a
// default.
type Config struct {
	Anonymize transforms.Config `yaml:"anonymize"`
	Stats     stats.Config      `yaml:"stats"`
	Kafka     KafkaConfig       `yaml:"kafka"`
	HTTP      HTTPConfig        `yaml:"http"`
	// ShutdownTimeout bounds a graceful stop: fetching stops, in-flight
	// batches are produced and committed, then the process exits. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Memory is the soft memory limit of the Go runtime (a size, e.g.
	// 256MiB): the collector works harder near it. Default: 90 % of the
	// container's memory limit when there is one; "off" for none. The
	// GOMEMLIMIT environment variable wins.
	Memory string `yaml:"memory_limit"`
	// LogFormat is text (default) or json, for log/slog on stderr.
	LogFormat string `yaml:"log_format"`
	// Stages this process runs: anonymize (raw topics -> events, visits),
	// aggregate (visits -> partials) and merge (partials -> stats). Default
	// all three (only anonymize when kafka.visits is false); deployments
	// that scale the stages apart run one per process.
	Stages []string `yaml:"stages"`
}

// Stage names.
const (
	StageAnonymize = "anonymize"
	StageAggregate = "aggregate"
	StageMerge     = "merge"
)

// runs reports whether the process runs stage s.
func (c Config) runs(s string) bool {
	for _, x := range c.Stages {
		if x == s {
			return true
		}
	}
	return false
}

// KafkaConfig is the stream processor's Kafka side.
type KafkaConfig struct {
	// Brokers are bootstrap addresses. Default localhost:9092.
	Brokers []string `yaml:"brokers"`
	// ClientID names this client to the brokers. Default logveil.
	ClientID string `yaml:"client_id"`
	// GroupID is the consumer group; run more instances with the same group
	// to scale out. Default logveil.
	GroupID string `yaml:"group_id"`
	// InputTopics hold raw access-log lines, one per message. Default
	// access-logs. A missing input topic is an error at start.
	InputTopics []string `yaml:"input_topics"`
	// TopicPrefix names the output topics: <prefix>.events, .rejected,
	// .salts and .visits. Default logveil.
	TopicPrefix string `yaml:"topic_prefix"`
	// Compression of produced batches: zstd (default), gzip, snappy, lz4, none.
	Compression string `yaml:"compression"`
	// FetchMaxBytes caps one fetch from a partition (and so a batch's
	// memory). Default 1 MiB.
	FetchMaxBytes int `yaml:"fetch_max_bytes"`
	// ChunkBytes: a fetch is handed to a stage in chunks of at most this
	// many bytes of records (decoded: a compressed fetch of fetch_max_bytes
	// can hold ten times more). What one partition holds is a few chunks
	// (the records, their outputs, the producer's copies). Default 256KiB.
	ChunkBytes int `yaml:"chunk_bytes"`
	// InflightBytes bounds the records all of this process's partitions
	// hold at once: a reader waits for a chunk's worth of it to be free
	// before reading on, so neither the size of a backlog nor the number of
	// partitions assigned raises memory. At least twice chunk_bytes.
	// Default 16MiB.
	InflightBytes int `yaml:"inflight_bytes"`
	// FetchMaxWait is how long a fetch waits for data. Default 250ms.
	FetchMaxWait time.Duration `yaml:"fetch_max_wait"`
	// Linger is how long the producer waits to fill a batch. Default 5ms;
	// larger batches cost latency.
	Linger time.Duration `yaml:"linger"`
	// BatchBytes bounds a produced batch for one partition, before
	// compression. The broker refuses a batch over its message.max.bytes
	// (a topic's max.message.bytes; 1 MiB by default) whatever the
	// compression, and a refused batch is retried for ever: keep this at or
	// below the smallest such limit of the output topics. Default 1000000.
	BatchBytes int `yaml:"batch_bytes"`
	// SessionTimeout: a member that stops heartbeating for this long (a
	// crashed instance) loses its partitions to the others. Default 10s;
	// the broker's minimum is usually 6s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// CommitInterval is how often acknowledged offsets are committed; a
	// crash replays at most this much (with the same event ids). Default 1s.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// Partitions and ReplicationFactor for output topics logveil creates.
	// Defaults 6 and 1. Existing topics are left as they are.
	Partitions        int `yaml:"partitions"`
	ReplicationFactor int `yaml:"replication_factor"`
	// Retention of created topics. Defaults: events 168h, rejected 168h,
	// visits 48h (it carries pseudonyms).
	EventsRetention   time.Duration `yaml:"events_retention"`
	RejectedRetention time.Duration `yaml:"rejected_retention"`
	VisitsRetention   time.Duration `yaml:"visits_retention"`
	// Visits writes every event with its visitor pseudonym to <prefix>.visits,
	// keyed by pseudonym, for the statistics stage. Default true.
	Visits *bool `yaml:"visits"`
	// PseudonymInEvents also writes the pseudonym ("visitor") into
	// <prefix>.events. Default false.
	PseudonymInEvents bool `yaml:"pseudonym_in_events"`
	// PartialsRetention: the internal <prefix>.partials topic (compacted)
	// also deletes records this old; it must outlast the largest window
	// plus the lateness. Default 48h.
	PartialsRetention time.Duration `yaml:"partials_retention"`
	// StatsEmitInterval is how often the aggregate stage writes the partials
	// of windows that changed (and commits); windows that close are written
	// at once. Default 5s.
	StatsEmitInterval time.Duration `yaml:"stats_emit_interval"`
	// Late also writes hits that arrive after their window closed to
	// <prefix>.late (same retention as visits). Default false: they are
	// only counted (logveil_stats_late_total).
	Late bool `yaml:"late"`
	// SaltRetention is how long a day's salt lives before it is tombstoned;
	// pseudonyms of older days can no longer be computed. Default 48h.
	SaltRetention time.Duration `yaml:"salt_retention"`

	TLS  TLSConfig  `yaml:"tls"`
	SASL SASLConfig `yaml:"sasl"`
}

// TLSConfig enables TLS to the brokers.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASLConfig enables SASL authentication.
type SASLConfig struct {
	// Mechanism is plain, scram-sha-256 or scram-sha-512; empty disables SASL.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password, or PasswordFile to read it from (e.g. a mounted secret).
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"`
}

// HTTPConfig is the operations endpoint: /metrics, /healthz, /readyz.
type HTTPConfig struct {
	// Listen is the address; default :9464. Empty string "-" disables it.
	Listen string `yaml:"listen"`
	// Pprof also serves Go's /debug/pprof/ profiles there. Default false.
	Pprof bool `yaml:"pprof"`
}

// Topic names derived from the prefix.
func (k KafkaConfig) EventsTopic() string   { return k.TopicPrefix + ".events" }
func (k KafkaConfig) RejectedTopic() string { return k.TopicPrefix + ".rejected" }
func (k KafkaConfig) SaltsTopic() string    { return k.TopicPrefix + ".salts" }
func (k KafkaConfig) VisitsTopic() string   { return k.TopicPrefix + ".visits" }
func (k KafkaConfig) PartialsTopic() string { return k.TopicPrefix + ".partials" }
func (k KafkaConfig) StatsTopic() string    { return k.TopicPrefix + ".stats" }
func (k KafkaConfig) LateTopic() string     { return k.TopicPrefix + ".late" }

// VisitsEnabled reports whether the visits topic is written.
func (k KafkaConfig) VisitsEnabled() bool { return k.Visits == nil || *k.Visits }

// Validate applies defaults and checks every field; errors name the field
// and the value.
func (c Config) Validate() (Config, error) {
	var err error
	if c.Anonymize, err = c.Anonymize.Validate(); err != nil {
		return c, fmt.Errorf("anonymize.%w", err)
	}
	if c.Stats, err = c.Stats.Validate(); err != nil {
		return c, err
	}
	if _, _, err := c.MemoryLimit(); err != nil {
		return c, err
	}
	k := &c.Kafka
	if len(k.Brokers) == 0 {
		k.Brokers = []string{"localhost:9092"}
	}
	k.ClientID = cmp.Or(k.ClientID, "logveil")
	k.GroupID = cmp.Or(k.GroupID, "logveil")
	k.TopicPrefix = cmp.Or(k.TopicPrefix, "logveil")
	k.Compression = cmp.Or(k.Compression, "zstd")
	if len(k.InputTopics) == 0 {
		k.InputTopics = []string{"access-logs"}
	}
	k.FetchMaxBytes = cmp.Or(k.FetchMaxBytes, 1<<20)
	k.ChunkBytes = cmp.Or(k.ChunkBytes, 256<<10)
	k.InflightBytes = cmp.Or(k.InflightBytes, 16<<20)
	k.FetchMaxWait = cmp.Or(k.FetchMaxWait, 250*time.Millisecond)
	k.Linger = cmp.Or(k.Linger, 5*time.Millisecond)
	k.BatchBytes = cmp.Or(k.BatchBytes, 1000000)
	k.CommitInterval = cmp.Or(k.CommitInterval, time.Second)
	k.SessionTimeout = cmp.Or(k.SessionTimeout, 10*time.Second)
	k.Partitions = cmp.Or(k.Partitions, 6)
	k.ReplicationFactor = cmp.Or(k.ReplicationFactor, 1)
	k.EventsRetention = cmp.Or(k.EventsRetention, 168*time.Hour)
	k.RejectedRetention = cmp.Or(k.RejectedRetention, 168*time.Hour)
	k.VisitsRetention = cmp.Or(k.VisitsRetention, 48*time.Hour)
	k.SaltRetention = cmp.Or(k.SaltRetention, 48*time.Hour)
	k.PartialsRetention = cmp.Or(k.PartialsRetention, 48*time.Hour)
	k.StatsEmitInterval = cmp.Or(k.StatsEmitInterval, 5*time.Second)
	if k.Visits == nil {
		t := true
		k.Visits = &t
	}
	if len(c.Stages) == 0 {
		c.Stages = []string{StageAnonymize}
		if k.VisitsEnabled() {
			c.Stages = append(c.Stages, StageAggregate, StageMerge)
		}
	}
	for _, s := range c.Stages {
		if s != StageAnonymize && s != StageAggregate && s != StageMerge {
			return c, fmt.Errorf("stages: %q is not anonymize, aggregate or merge", s)
		}
	}
	if c.Stats.Differential() && c.runs(StageMerge) {
		if c.Stats.NoiseKeyFile == "" {
			return c, fmt.Errorf("stats.noise_key_file: required with stats.privacy differential, so that every merger derives the same noise (head -c 32 /dev/urandom > noise.key; keep it from analytics consumers)")
		}
		if _, err := c.Stats.LoadNoiseKey(); err != nil {
			return c, err
		}
	}
	if c.runs(StageAnonymize) && c.runs(StageAggregate) && !k.VisitsEnabled() {
		return c, fmt.Errorf("stages: aggregate reads <prefix>.visits, which kafka.visits: false turns off")
	}
	var longest time.Duration
	for _, w := range c.Stats.Windows {
		longest = max(longest, w)
	}
	if k.PartialsRetention < longest+c.Stats.Lateness+time.Hour {
		return c, fmt.Errorf("kafka.partials_retention: %s does not outlast the largest window plus lateness plus an hour (%s)",
			k.PartialsRetention, longest+c.Stats.Lateness+time.Hour)
	}
	if c.runs(StageAggregate) && k.VisitsRetention < longest+c.Stats.Lateness+time.Hour {
		return c, fmt.Errorf("kafka.visits_retention: %s does not outlast the largest window plus lateness plus an hour (%s): a restart replays an open window's visits",
			k.VisitsRetention, longest+c.Stats.Lateness+time.Hour)
	}
	if k.StatsEmitInterval < 10*time.Millisecond {
		return c, fmt.Errorf("kafka.stats_emit_interval: %s is under 10ms", k.StatsEmitInterval)
	}
	c.HTTP.Listen = cmp.Or(c.HTTP.Listen, ":9464")
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, 30*time.Second)
	c.LogFormat = cmp.Or(c.LogFormat, "text")

	switch k.Compression {
	case "zstd", "gzip", "snappy", "lz4", "none":
	default:
		return c, fmt.Errorf("kafka.compression: %q is not zstd, gzip, snappy, lz4 or none", k.Compression)
	}
	for _, b := range k.Brokers {
		if !strings.Contains(b, ":") {
			return c, fmt.Errorf("kafka.brokers: %q has no port", b)
		}
	}
	for _, t := range k.InputTopics {
		if t == "" || strings.HasPrefix(t, k.TopicPrefix+".") {
			return c, fmt.Errorf("kafka.input_topics: %q is empty or one of logveil's own output topics", t)
		}
	}
	if k.ChunkBytes < 4<<10 || k.ChunkBytes > 64<<20 {
		return c, fmt.Errorf("kafka.chunk_bytes: %d is out of range 4KiB..64MiB", k.ChunkBytes)
	}
	if k.InflightBytes < 2*k.ChunkBytes {
		return c, fmt.Errorf("kafka.inflight_bytes: %d is less than twice kafka.chunk_bytes (%d)", k.InflightBytes, k.ChunkBytes)
	}
	if k.FetchMaxBytes < 1<<10 || k.FetchMaxBytes > 256<<20 {
		return c, fmt.Errorf("kafka.fetch_max_bytes: %d is out of range 1KiB..256MiB", k.FetchMaxBytes)
	}
	// A visits message holds up to hitsMessageBytes of hits and must fit.
	if k.BatchBytes < hitsMessageBytes+64<<10 || k.BatchBytes > 256<<20 {
		return c, fmt.Errorf("kafka.batch_bytes: %d is out of range %d..256MiB", k.BatchBytes, hitsMessageBytes+64<<10)
	}
	if k.Partitions < 1 || k.Partitions > 10000 {
		return c, fmt.Errorf("kafka.partitions: %d is out of range 1..10000", k.Partitions)
	}
	if k.ReplicationFactor < 1 || k.ReplicationFactor > 32 {
		return c, fmt.Errorf("kafka.replication_factor: %d is out of range 1..32", k.ReplicationFactor)
	}
	if k.SaltRetention < 24*time.Hour {
		return c, fmt.Errorf("kafka.salt_retention: %s is shorter than a day, the salt's lifetime", k.SaltRetention)
	}
	switch k.SASL.Mechanism {
	case "", "plain", "scram-sha-256", "scram-sha-512":
	default:
		return c, fmt.Errorf("kafka.sasl.mechanism: %q is not plain, scram-sha-256 or scram-sha-512", k.SASL.Mechanism)
	}
	if k.SASL.Mechanism != "" && k.SASL.Username == "" {
		return c, fmt.Errorf("kafka.sasl.username: empty with mechanism %q", k.SASL.Mechanism)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		return c, fmt.Errorf("kafka.tls: cert_file and key_file go together")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("log_format: %q is not text or json", c.LogFormat)
	}
	if c.ShutdownTimeout < 0 {
		return c, fmt.Errorf("shutdown_timeout: %s is negative", c.ShutdownTimeout)
	}
	return c, nil
}
