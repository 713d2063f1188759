package transforms

import (
	"math/rand/v2"
	"testing"

	"github.com/logveil/logveil/internal/schematest"
	"github.com/logveil/logveil/schema"
)

// TestEventsMatchSchema validates events of every shape against the shipped
// JSON Schema, and checks that every field the schema lists is produced by
// some line (the schema and the encoder cannot drift apart).
func TestEventsMatchSchema(t *testing.T) {
	sch := schematest.Compile(t, "event.v1.json", schema.EventV1)
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
		for k := range schematest.Validate(t, sch, w.AppendJSON(nil, &w.Rec, []byte("raw-0-1"))) {
			seen[k] = true
		}
	}
	for _, k := range schematest.Properties(schema.EventV1) {
		if !seen[k] {
			t.Errorf("schema field %q never produced", k)
		}
	}
}

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day)}, true }
