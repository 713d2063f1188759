// Package transforms is logveil's pure per-record code: no I/O, no goroutines.
//
// Flow: raw log line → parse (format.go compiles a format; parse.go reads
// text lines, jsonparse.go nginx JSON, timestamp.go the times) → enrich
// (geo.go: country and ASN from the full address; clientaddr.go finds it) →
// anonymize (anonymizer.go truncates and forgets the address; path.go,
// query.go, referrer.go, host.go and useragent.go keep what is known to be
// safe, judged by one classifier: classify.go, numbers.go, places.go,
// freetext.go) → encode (encode.go: the JSON event; line.go: the line
// rewritten in its own format; redact.go: a rejected line's shape). Error
// logs: errorlog.go parses, errortext.go scrubs the message, errorencode.go
// writes the line or its JSON. traffic.go tells crawlers and bots from
// people. audit.go runs the
// classifier as a scanner over any output. The statistics are in the
// transforms/stats package.
//
// A Worker owns every buffer and cache it uses, so one Worker per goroutine
// processes records without allocating in steady state. Slices a Record
// exposes alias either the input line or the Worker's scratch buffers and stay
// valid only until the next call that reuses that Record.
package transforms
