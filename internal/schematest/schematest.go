// Package schematest compiles logveil's shipped JSON Schemas for the tests
// that validate output against them.
package schematest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Compile compiles a schema document, failing tb on error.
func Compile(tb testing.TB, name string, doc []byte) *jsonschema.Schema {
	tb.Helper()
	d, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, d); err != nil {
		tb.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Validate checks one JSON value against s and returns its top-level keys.
func Validate(tb testing.TB, s *jsonschema.Schema, value []byte) map[string]any {
	tb.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(value))
	if err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, value)
	}
	if err := s.Validate(inst); err != nil {
		tb.Fatalf("does not match the schema: %v\n%s", err, value)
	}
	var f map[string]any
	json.Unmarshal(value, &f)
	return f
}

// Properties lists the top-level properties a schema document declares.
func Properties(doc []byte) []string {
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(doc, &s)
	var out []string
	for k := range s.Properties {
		out = append(out, k)
	}
	return out
}
