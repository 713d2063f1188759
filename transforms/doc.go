// Package transforms is logveil's pure per-record code: no I/O, no goroutines.
//
// Flow: raw log line → Parse (format.go, textparse.go, jsonparse.go) → enrich
// (geo.go: country and ASN from the full address) → anonymize (ipmask.go
// truncates and forgets the address; path.go, query.go, referrer.go,
// useragent.go scrub the rest) → encode (encode.go: JSON event or the line
// rewritten in its own format).
//
// A Worker owns every buffer and cache it uses, so one Worker per goroutine
// processes records without allocating in steady state. Slices a Record
// exposes alias either the input line or the Worker's scratch buffers and stay
// valid only until the next call that reuses that Record.
package transforms
