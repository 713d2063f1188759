package transforms

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/logveil/logveil/schema"
)

// TestEventsMatchSchema validates events of every shape against the shipped
// JSON Schema, and checks that every field the schema lists is produced by
// some line (the schema and the encoder cannot drift apart).
func TestEventsMatchSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.EventV1))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("event.v1.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("event.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	w := newTestAnonymizer(t, Config{CountryDB: geoip2CountryDB(t), ASNDB: asnDB(t), SearchTermsInEvents: true}).NewWorker()
	w.SetSaltSource(everyDay{})
	w.EmitPseudonym = true
	lines := append([][]byte{}, sampleLines...)
	lines = append(lines,
		[]byte(`c-73-12-34-56.hsd1.ca.comcast.net - - [10/Oct/2000:13:55:36 -0700] "\x16\x03" 400 -`),
		[]byte(`{"remote_addr":"2a02:cf40::9","time_iso8601":"2000-10-10T13:55:36Z","request":"GET /?q=x HTTP/1.1","status":200,"request_time":"0.010","host":"shop.example","http_referer":"https://shop.example/"}`),
	)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		l, _ := plantedLine(rng)
		lines = append(lines, []byte(l))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if err := w.Process(l); err != nil {
			t.Fatalf("Process(%q): %v", l, err)
		}
		out := w.AppendJSON(nil, &w.Rec, []byte("raw-0-1"))
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("not JSON: %s", out)
		}
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("event does not match schema: %v\n%s", err, out)
		}
		var m map[string]any
		json.Unmarshal(out, &m)
		for k := range m {
			seen[k] = true
		}
	}
	var s struct {
		Properties map[string]any `json:"properties"`
	}
	json.Unmarshal(schema.EventV1, &s)
	for k := range s.Properties {
		if !seen[k] {
			t.Errorf("schema field %q never produced", k)
		}
	}
}

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day)}, true }
