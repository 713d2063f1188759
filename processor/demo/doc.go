// Package demo is `logveil demo`: an in-process Kafka broker (kfake),
// generated traffic fed into it (Feed, also `logveil loggen --brokers`), the
// same Runner as `logveil run`, and a live summary read back from the
// output topics. Without a country database it writes a made-up one for
// the generated addresses (geo.go).
package demo
