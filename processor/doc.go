// Package processor is logveil's runtime: it moves lines between the outside
// world (stdin/stdout, Kafka topics) and the pure transforms, in batches, on
// as many workers as there are cores, and keeps output in input order.
package processor
