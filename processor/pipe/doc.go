// Package pipe runs transforms over a stream on one machine, with no Kafka:
// `logveil anonymize` (Run: lines in, events or rewritten lines out, in
// input order, on every core) and `logveil aggregate` (Aggregate: the same
// statistics as the Kafka stages, from a file). A reader cuts the input into
// chunks of whole lines, workers process them, and a consumer writes them in
// order; a signal (Options.Stop) ends the input without losing a line.
package pipe
