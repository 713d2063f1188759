// Package transforms is logveil's pure per-line code: no I/O, no goroutines.
//
// Flow, one step a type with its own caches, composed by a Worker: raw log
// line → parse into a Raw (format.go compiles a format; parse.go reads text
// lines, jsonparse.go nginx JSON, timestamp.go the times; clientaddr.go
// finds the client address) → enrich (geo.go: country and ASN from the full
// address) → anonymize into a Record (anonymizer.go truncates the address
// and never stores it; path.go, query.go, host.go, referrer.go and
// useragent.go keep what is known to be safe, judged by one classifier:
// classify.go, numbers.go, places.go, freetext.go; pseudonym.go the daily
// visitor pseudonym; traffic.go tells crawlers and bots from people) →
// encode (encode.go: the JSON event; line.go: the line rewritten in its own
// format; redact.go: a rejected line's shape). Encoders take Records only,
// which hold nothing the policy drops. Error logs: errorlog.go parses,
// errortext.go scrubs the message, errorencode.go writes the line or its
// JSON. audit.go runs the classifier as a scanner over any output.
// config.go is the anonymize section: Default, and Resolve into the Policy
// an Anonymizer runs. The statistics are in the transforms/stats package.
//
// A Worker owns every buffer and cache it uses, so one Worker per goroutine
// processes lines without allocating in steady state. Slices a Record
// exposes alias either the input line or the Worker's scratch buffers and
// stay valid only until the Worker's next Process.
package transforms
