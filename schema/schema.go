// Package schema embeds the JSON Schemas of logveil's output topics.
package schema

import _ "embed"

// EventV1 is the JSON Schema of an anonymized event (schema_version 1).
//
//go:embed event.v1.json
var EventV1 []byte

// StatsV1 is the JSON Schema of a statistics row (<prefix>.stats values and
// logveil aggregate output).
//
//go:embed stats.v1.json
var StatsV1 []byte

// ErrorV1 is the JSON Schema of an anonymized error-log line (logveil
// anonymize --output jsonl on Apache or nginx error logs).
//
//go:embed error.v1.json
var ErrorV1 []byte
