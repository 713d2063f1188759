// Package config is logveil's one configuration: the YAML tree (Config),
// every key's default written once (Default), the file, the LOGVEIL_*
// environment and the flags applied over it by one binder (Load, Bind),
// and one check (Resolve) that returns typed settings for each component:
// the anonymizer's transforms.Policy, the statistics' stats.Params, the
// Kafka driver's options. Components take those and cannot fail on
// configuration afterwards. keys.go lists every key with its flag and the
// text of the README's configuration reference.
package config

import (
	"time"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

// Config is logveil's whole configuration as a YAML file writes it. Keys not
// listed here are an error, so a typo cannot silently fall back to a
// default.
type Config struct {
	Anonymize transforms.Config `yaml:"anonymize"`
	Stats     stats.Config      `yaml:"stats"`
	Kafka     Kafka             `yaml:"kafka"`
	HTTP      HTTP              `yaml:"http"`
	// ShutdownTimeout bounds a graceful stop: fetching stops, in-flight
	// batches are produced and committed, then the process exits.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Memory is the soft memory limit of the Go runtime (a size, e.g.
	// 256MiB): the collector works harder near it. Empty: 90 % of the
	// container's memory limit when there is one; "off" for none. The
	// GOMEMLIMIT environment variable wins.
	Memory string `yaml:"memory_limit"`
	// LogFormat is text or json, for log/slog on stderr.
	LogFormat string `yaml:"log_format"`
	// Stages this process runs: anonymize (raw topics -> events, visits,
	// census), aggregate (visits -> partials), merge (partials -> stats)
	// and census (census -> admitted: the shared counts of k-anonymous
	// events). Deployments that scale the stages apart run one per process;
	// empty: all (without aggregate and merge when kafka.visits is false,
	// without census when anonymize.events_k is 1).
	Stages []string `yaml:"stages"`

	// origin is where each key not at its default was set (Load), for
	// errors.
	origin map[string]string
}

// Kafka is the stream processor's Kafka side.
type Kafka struct {
	// Brokers are bootstrap addresses.
	Brokers []string `yaml:"brokers"`
	// ClientID names this client to the brokers.
	ClientID string `yaml:"client_id"`
	// GroupID is the consumer group; run more instances with the same group
	// to scale out.
	GroupID string `yaml:"group_id"`
	// InputTopics hold raw access-log lines, one per message. A missing
	// input topic is an error at start.
	InputTopics []string `yaml:"input_topics"`
	// TopicPrefix names the output topics: <prefix>.events, .rejected,
	// .salts, .visits, .partials, .stats (and .late).
	TopicPrefix string `yaml:"topic_prefix"`
	// Compression of produced batches: zstd, gzip, snappy, lz4, none.
	Compression string `yaml:"compression"`
	// FetchMaxBytes caps one fetch from a partition (and so a batch's
	// memory).
	FetchMaxBytes int `yaml:"fetch_max_bytes"`
	// ChunkBytes: a fetch is handed to a stage in chunks of at most this
	// many bytes of records (decoded: a compressed fetch of fetch_max_bytes
	// can hold ten times more). What one partition holds is a few chunks
	// (the records, their outputs, the producer's copies).
	ChunkBytes int `yaml:"chunk_bytes"`
	// InflightBytes bounds the records all of this process's partitions
	// hold at once: a reader waits for a chunk's worth of it to be free
	// before reading on, so neither the size of a backlog nor the number of
	// partitions assigned raises memory. At least twice chunk_bytes.
	InflightBytes int `yaml:"inflight_bytes"`
	// FetchMaxWait is how long a fetch waits for data.
	FetchMaxWait time.Duration `yaml:"fetch_max_wait"`
	// Linger is how long the producer waits to fill a batch; larger
	// batches cost latency.
	Linger time.Duration `yaml:"linger"`
	// BatchBytes bounds a produced batch for one partition, before
	// compression. The broker refuses a batch over its message.max.bytes
	// (a topic's max.message.bytes; 1 MiB by default) whatever the
	// compression: keep this at or below the smallest such limit of the
	// output topics.
	BatchBytes int `yaml:"batch_bytes"`
	// SessionTimeout: a member that stops heartbeating for this long (a
	// crashed instance) loses its partitions to the others; the broker's
	// minimum is usually 6s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// CommitInterval is how often acknowledged offsets are committed; a
	// crash replays at most this much (with the same event ids).
	CommitInterval time.Duration `yaml:"commit_interval"`
	// Partitions and ReplicationFactor for output topics logveil creates.
	// Existing topics are left as they are.
	Partitions        int `yaml:"partitions"`
	ReplicationFactor int `yaml:"replication_factor"`
	// Retention of created topics; visits carry pseudonyms.
	EventsRetention   time.Duration `yaml:"events_retention"`
	RejectedRetention time.Duration `yaml:"rejected_retention"`
	VisitsRetention   time.Duration `yaml:"visits_retention"`
	// Visits writes every event's statistics fields with its visitor
	// pseudonym to <prefix>.visits, for the statistics stages.
	Visits bool `yaml:"visits"`
	// PseudonymInEvents also writes the pseudonym ("visitor") into
	// <prefix>.events.
	PseudonymInEvents bool `yaml:"pseudonym_in_events"`
	// PartialsRetention: the internal <prefix>.partials topic (compacted)
	// also deletes records this old; it must outlast the largest window
	// plus the lateness.
	PartialsRetention time.Duration `yaml:"partials_retention"`
	// StatsEmitInterval is how often the aggregate stage writes the partials
	// of windows that changed (and commits); windows that close are written
	// at once.
	StatsEmitInterval time.Duration `yaml:"stats_emit_interval"`
	// Late also writes hits that arrive after their window closed to
	// <prefix>.late (same retention as visits); else they are only counted
	// (logveil_stats_late_total).
	Late bool `yaml:"late"`
	// SaltRetention is how long a day's salt lives before it is tombstoned;
	// pseudonyms of older days can no longer be computed.
	SaltRetention time.Duration `yaml:"salt_retention"`

	TLS  TLS  `yaml:"tls"`
	SASL SASL `yaml:"sasl"`
}

// TLS enables TLS to the brokers.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL enables SASL authentication.
type SASL struct {
	// Mechanism is plain, scram-sha-256 or scram-sha-512; empty disables SASL.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password, or PasswordFile to read it from (e.g. a mounted secret).
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"`
}

// HTTP is the operations endpoint: /metrics, /healthz, /readyz.
type HTTP struct {
	// Listen is the address; "-" disables it.
	Listen string `yaml:"listen"`
	// Pprof also serves Go's /debug/pprof/ profiles there.
	Pprof bool `yaml:"pprof"`
}

// Default is every key's default, written once here (and in the
// components' own Default for their sections).
func Default() Config {
	return Config{
		Anonymize: transforms.Default(),
		Stats:     stats.Default(),
		Kafka: Kafka{
			Brokers:           []string{"localhost:9092"},
			ClientID:          "logveil",
			GroupID:           "logveil",
			InputTopics:       []string{"access-logs"},
			TopicPrefix:       "logveil",
			Compression:       "zstd",
			FetchMaxBytes:     1 << 20,
			ChunkBytes:        256 << 10,
			InflightBytes:     16 << 20,
			FetchMaxWait:      250 * time.Millisecond,
			Linger:            5 * time.Millisecond,
			BatchBytes:        1000000,
			SessionTimeout:    10 * time.Second,
			CommitInterval:    time.Second,
			Partitions:        6,
			ReplicationFactor: 1,
			EventsRetention:   168 * time.Hour,
			RejectedRetention: 168 * time.Hour,
			VisitsRetention:   48 * time.Hour,
			Visits:            true,
			PartialsRetention: 48 * time.Hour,
			StatsEmitInterval: 5 * time.Second,
			SaltRetention:     48 * time.Hour,
		},
		HTTP:            HTTP{Listen: ":9464"},
		ShutdownTimeout: 30 * time.Second,
		LogFormat:       "text",
		Stages:          []string{},
	}
}

// Stage names.
const (
	StageAnonymize = "anonymize"
	StageAggregate = "aggregate"
	StageMerge     = "merge"
	StageCensus    = "census"
)

// Topic names derived from the prefix.
func (k Kafka) EventsTopic() string   { return k.TopicPrefix + ".events" }
func (k Kafka) RejectedTopic() string { return k.TopicPrefix + ".rejected" }
func (k Kafka) SaltsTopic() string    { return k.TopicPrefix + ".salts" }
func (k Kafka) VisitsTopic() string   { return k.TopicPrefix + ".visits" }
func (k Kafka) PartialsTopic() string { return k.TopicPrefix + ".partials" }
func (k Kafka) StatsTopic() string    { return k.TopicPrefix + ".stats" }
func (k Kafka) LateTopic() string     { return k.TopicPrefix + ".late" }
func (k Kafka) CensusTopic() string   { return k.TopicPrefix + ".census" }
func (k Kafka) AdmittedTopic() string { return k.TopicPrefix + ".admitted" }
