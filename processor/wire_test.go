package processor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

func TestVisitsWatermarkRoundTrip(t *testing.T) {
	for _, want := range []int64{0, 1795785801, -5, math.MaxInt64, math.MinInt64} {
		v := appendVisitsWatermark(nil, want)
		if got, ok := parseVisitsWatermark(v); !ok || got != want {
			t.Errorf("%d -> %q -> %d %v", want, v, got, ok)
		}
	}
	for _, bad := range []string{"", "w1", "w1\t", "w2\t5", "w1\tx", "5"} {
		if _, ok := parseVisitsWatermark([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if k := appendKey(nil, watermarkKeyPrefix, sourceName("access-logs", 3)); string(k) != "wm|access-logs/3" {
		t.Errorf("watermark key %q", k)
	}
	if k := appendKey(nil, hitsKeyPrefix, sourceName("access-logs", 3)); string(k) != "b|access-logs/3" {
		t.Errorf("hits key %q", k)
	}
}

// The aggregator's watermark record: what the merger reads back, and what a
// merger of the first version (decoding a stats.Partial) reads.
func TestPartialsWatermarkRoundTrip(t *testing.T) {
	v := appendPartialsWatermark(nil, 4, 1795785801)
	var w partialsWatermark
	if err := json.Unmarshal(v, &w); err != nil || w.Dim != watermarkDim || w.Source != 4 || w.Time != 1795785801 {
		t.Errorf("%s -> %+v %v", v, w, err)
	}
	var p stats.Partial
	if err := json.Unmarshal(v, &p); err != nil || p.Dim != watermarkDim || p.Source != 4 || p.Start != 1795785801 {
		t.Errorf("as a first-version partial: %+v %v", p, err)
	}
	// The first version's record is read too.
	old, _ := json.Marshal(stats.Partial{Dim: watermarkDim, Source: 2, Start: 99})
	w = partialsWatermark{}
	if err := json.Unmarshal(old, &w); err != nil || w.Source != 2 || w.Time != 99 {
		t.Errorf("first version %s -> %+v %v", old, w, err)
	}
}

func TestRejectedRecord(t *testing.T) {
	a, err := transforms.NewAnonymizer(transforms.Config{})
	if err != nil {
		t.Fatal(err)
	}
	wk := a.NewWorker()
	line := []byte("garbage \"from\" 203.0.113.9 jdoe@example.com\x01")
	v := appendRejected(nil, wk, []byte("raw-1-7"), errors.New("unparsable timestamp"), line)
	var r struct {
		SchemaVersion int    `json:"schema_version"`
		ID            string `json:"id"`
		Reason        string `json:"reason"`
		Line          string `json:"line"`
	}
	if err := json.Unmarshal(v, &r); err != nil || r.SchemaVersion != transforms.SchemaVersion || r.ID != "raw-1-7" || r.Reason != "unparsable timestamp" ||
		r.Line != `{w} "{w}" {ip} {email} ` {
		t.Errorf("%s -> %+v %v", v, r, err)
	}
	if bytes.Contains(v, []byte("203.0.113.9")) || bytes.Contains(v, []byte("jdoe")) {
		t.Errorf("identifier in the rejected record: %s", v)
	}
}

func TestCommitMetadataRoundTrip(t *testing.T) {
	wm := map[string]int64{"access-logs/0": 1795785801, "access-logs/11": -5, "error.logs/3": math.MinInt64, "error.logs/4": math.MaxInt64}
	pos, got, ok := decodeMeta("a1", encodeMeta("a1", 42, wm))
	if !ok || pos != 42 || !maps.Equal(got, wm) {
		t.Fatalf("round trip: %v %v %v", pos, got, ok)
	}
	merge := map[string]int64{"0": 7, "1": 1795785801, "35": 1795785790}
	if _, got, ok := decodeMeta("m1", encodeMeta("m1", 9, merge)); !ok || !maps.Equal(got, merge) {
		t.Fatalf("merge stage round trip: %v %v", got, ok)
	}
	// Sources that are not "topic/number" are written in the first form.
	odd := map[string]int64{"x": 1, "a/b": 2}
	if enc := encodeMeta("a1", 1, odd); enc != "a1 1 a/b=2,x=1" {
		t.Errorf("first form: %q", enc)
	}
	// What an earlier version committed (the first form) is still read.
	if pos, got, ok := decodeMeta("a1", "a1 42 access-logs/0=1795785801,access-logs/11=-5"); !ok || pos != 42 ||
		!maps.Equal(got, map[string]int64{"access-logs/0": 1795785801, "access-logs/11": -5}) {
		t.Errorf("first form: %v %v %v", pos, got, ok)
	}
	for _, bad := range []string{"", "a1", "m1 5 ", "a1 x", "a1 5 a=1,b", "a1 5 a=x", "a1 5 x t/1.2", "a1 5 9 t/1", "a1 5 9 t/1.!", "a1 5 9 t/!.1", "a1 5 9 t/1.2 extra"} {
		if _, _, ok := decodeMeta("a1", bad); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	if pos, wm, ok := decodeMeta("m1", "m1 9"); !ok || pos != 9 || len(wm) != 0 {
		t.Errorf("no watermarks: %v %v %v", pos, wm, ok)
	}
	// Kafka's default offset.metadata.max.bytes is 4096: 500 raw partitions
	// of three topics, watermarks within an hour of each other, fit.
	many := map[string]int64{}
	for i := range 500 {
		many[fmt.Sprintf("%s/%d", []string{"access-logs", "nginx-eu", "nginx-us"}[i%3], i/3)] = 1795785801 - int64(i*131%3600)
	}
	enc := encodeMeta("a1", 123456789, many)
	if len(enc) > 4096 {
		t.Errorf("500 partitions: %d bytes of metadata", len(enc))
	}
	if _, got, ok := decodeMeta("a1", enc); !ok || !maps.Equal(got, many) {
		t.Error("500 partitions: round trip differs")
	}
}
