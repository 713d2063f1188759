// Package processor is logveil's Kafka driver: a consumer-group member per
// stage that reads raw lines or internal records, runs them through the
// engine (processor/engine: the per-line loop every driver shares) or the
// statistics (transforms/stats), produces the outputs with acks=all and
// only then commits.
//
// Flow: raw topics → anonymize (anonymize.go) → <prefix>.events, .rejected,
// .visits → aggregate (aggregate.go) → .partials → merge (merge.go) → .stats.
// runner.go wires the stages this process runs; group.go is the group
// membership and commits they share, reader.go the one partition reader,
// topicread.go whole-topic reads, runtime.go and produce.go the one
// producer, wire.go every internal key and value format, eventclock.go the
// statistics' event time, salts.go the pseudonym salts. The settings come
// resolved from processor/config. The file driver (processor/pipe), the
// statistics page (processor/statspage) and the demo (processor/demo) are
// packages of their own on top.
package processor
