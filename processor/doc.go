// Package processor is logveil's Kafka runtime: a consumer-group member per
// stage that reads raw lines or internal records, runs the pure code of
// transforms and transforms/stats on them, produces the outputs with
// acks=all and only then commits.
//
// Flow: raw topics → anonymize (anonymize.go) → <prefix>.events, .rejected,
// .visits → aggregate (aggregate.go) → .partials → merge (merge.go) → .stats.
// runner.go wires the stages this process runs; group.go is the group
// membership and commits they share, reader.go the one partition reader,
// runtime.go the producer and what else they share, wire.go every internal
// key and value format, salts.go the pseudonym salts, config.go and load.go
// the configuration. The pipe and batch mode (processor/pipe), the
// statistics page (processor/statspage) and the demo (processor/demo) are
// packages of their own on top.
package processor
