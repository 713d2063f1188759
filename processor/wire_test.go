package processor

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms/stats"
)

func TestVisitsWatermarkRoundTrip(t *testing.T) {
	for _, tm := range []int64{0, 1795785801, -5, math.MaxInt64, math.MinInt64} {
		for _, want := range []sourceMark{{t: tm}, {t: tm, idle: true}, {t: tm, idle: true, idleFor: 86400}} {
			v := appendVisitsWatermark(nil, want)
			if got, ok := parseVisitsWatermark(v); !ok || got != want {
				t.Errorf("%+v -> %q -> %+v %v", want, v, got, ok)
			}
		}
	}
	if v := appendVisitsWatermark(nil, sourceMark{t: 7}); string(v) != "w1\t7" {
		t.Errorf("an active watermark is written as the first version wrote it: %q", v)
	}
	for _, bad := range []string{"", "w1", "w1\t", "w2\t5", "w1\tx", "5", "i1\t5", "i1\t5\t", "i1\t5\t-1", "i1\tx\t3", "i1\t5\t3\t1"} {
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

func TestCommitMetadataRoundTrip(t *testing.T) {
	marks := func(m map[string]int64) map[string]sourceMark {
		out := map[string]sourceMark{}
		for k, v := range m {
			out[k] = sourceMark{t: v}
		}
		return out
	}
	wm := map[string]sourceMark{"access-logs/0": {t: 1795785801}, "access-logs/11": {t: -5, idle: true, idleFor: 37},
		"error.logs/3": {t: math.MinInt64}, "error.logs/4": {t: math.MaxInt64, idle: true}}
	late := map[stats.WindowKey]int64{{Start: 1795780800, Size: 86400}: 12, {Start: 1795780800, Size: 604800}: 3}
	for _, want := range []stageMeta{{pos: 42, clock: 1795785790, hasClock: true, marks: wm}, {pos: 42, marks: wm}, {pos: -1, marks: map[string]sourceMark{}},
		{pos: 7, clock: 5, hasClock: true, late: late, marks: wm}} {
		got, ok := decodeMeta("a2", encodeMeta("a2", want))
		if !ok || got.pos != want.pos || got.clock != want.clock || got.hasClock != want.hasClock || !maps.Equal(got.marks, want.marks) ||
			!maps.Equal(got.late, want.late) {
			t.Fatalf("round trip: %+v -> %q -> %+v %v", want, encodeMeta("a2", want), got, ok)
		}
	}
	merge := marks(map[string]int64{"0": 7, "1": 1795785801, "35": 1795785790})
	if got, ok := decodeMeta("m1", encodeMeta("m1", stageMeta{pos: 9, marks: merge})); !ok || !maps.Equal(got.marks, merge) {
		t.Fatalf("merge stage round trip: %v %v", got, ok)
	}
	// Sources that are not "topic/number" are written in the first form.
	odd := map[string]sourceMark{"x": {t: 1}, "a/b": {t: 2, idle: true, idleFor: 9}}
	if enc := encodeMeta("a2", stageMeta{pos: 1, clock: 3, hasClock: true, marks: odd}); enc != "a2 1 3 - a/b=2.9,x=1" {
		t.Errorf("first form: %q", enc)
	}
	if got, ok := decodeMeta("a2", "a2 1 3 - a/b=2.9,x=1"); !ok || !maps.Equal(got.marks, odd) {
		t.Errorf("first form: %+v %v", got, ok)
	}
	// What an earlier version committed (tag a1, both forms) is still read.
	if got, ok := decodeMeta("a1", "a1 42 access-logs/0=1795785801,access-logs/11=-5"); !ok || got.pos != 42 || got.hasClock ||
		!maps.Equal(got.marks, marks(map[string]int64{"access-logs/0": 1795785801, "access-logs/11": -5})) {
		t.Errorf("first form: %+v %v", got, ok)
	}
	if got, ok := decodeMeta("a1", "a1 42 1795785801 access-logs/0.0,b.b"); !ok || got.pos != 42 ||
		!maps.Equal(got.marks, marks(map[string]int64{"access-logs/0": 1795785801, "access-logs/11": 1795785801 - 11})) {
		t.Errorf("a1: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "a1", "m1 5 ", "a1 x", "a1 5 a=1,b", "a1 5 a=x", "a1 5 x t/1.2", "a1 5 9 t/1", "a1 5 9 t/1.!",
		"a1 5 9 t/!.1", "a1 5 9 t/1.2 extra", "a1 5 9 t/1.2.3.4", "a1 5 9 t/1.2.!"} {
		if _, ok := decodeMeta("a1", bad); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	for _, bad := range []string{"a2 5", "a2 5 -", "a2 5 x -", "a2 5 x - t/1.2", "a1 5 9 t/1.2", "a2 5 - - 9 t/1.2 extra", "a2 5 - 1.2 9 t/1.2", "a2 5 - 1.2.x 9 t/1.2"} {
		if _, ok := decodeMeta("a2", bad); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	if got, ok := decodeMeta("m1", "m1 9"); !ok || got.pos != 9 || len(got.marks) != 0 {
		t.Errorf("no watermarks: %+v %v", got, ok)
	}
	// Kafka's default offset.metadata.max.bytes is 4096: 500 raw partitions
	// of three topics, watermarks within an hour of each other, a third of
	// them idle, fit.
	many := map[string]sourceMark{}
	for i := range 500 {
		many[fmt.Sprintf("%s/%d", []string{"access-logs", "nginx-eu", "nginx-us"}[i%3], i/3)] = sourceMark{t: 1795785801 - int64(i*131%3600),
			idle: i%3 == 0}
		if i%3 == 0 {
			m := many[fmt.Sprintf("access-logs/%d", i/3)]
			m.idleFor = int64(i * 7 % 600)
			many[fmt.Sprintf("access-logs/%d", i/3)] = m
		}
	}
	enc := encodeMeta("a2", stageMeta{pos: 123456789, clock: 1795785801, hasClock: true, marks: many})
	if len(enc) > 4096 {
		t.Errorf("500 partitions: %d bytes of metadata", len(enc))
	}
	if got, ok := decodeMeta("a2", enc); !ok || !maps.Equal(got.marks, many) {
		t.Error("500 partitions: round trip differs")
	}
}

func TestCensusRecordsRoundTrip(t *testing.T) {
	for _, want := range []engine.Observation{{Day: 20424, Key: 0x0123456789abcdef, Visitor: 0xfedcba9876543210}, {Day: 1, Key: 0, Visitor: math.MaxUint64}} {
		line := appendObservation(nil, want)
		if line[len(line)-1] != '\n' {
			t.Fatalf("%q does not end a line", line)
		}
		if got, ok := parseObservation(line[:len(line)-1]); !ok || got != want {
			t.Errorf("%+v -> %q -> %+v %v", want, line, got, ok)
		}
		key := appendAdmittedKey(nil, want.Day, want.Key)
		if day, k, ok := parseAdmittedKey(key); !ok || day != want.Day || k != want.Key {
			t.Errorf("admitted %q -> %d %x %v", key, day, k, ok)
		}
	}
	if got := string(appendObservation(nil, engine.Observation{Day: 20424, Key: 0xab, Visitor: 0xcd})); got != "20424\t00000000000000ab\t00000000000000cd\n" {
		t.Errorf("observation written as %q", got)
	}
	for _, bad := range []string{"", "1", "1\t00000000000000ab", "1\t00000000000000ab\t", "x\t00000000000000ab\t00000000000000cd",
		"1\t00000000000000AB\t00000000000000cd", "1\t0ab\t00000000000000cd", "1\t00000000000000ab\t00000000000000cd\t"} {
		if _, ok := parseObservation([]byte(bad)); ok {
			t.Errorf("observation %q parsed", bad)
		}
	}
	for _, bad := range []string{"", "1", "1|", "x|00000000000000ab", "1|00000000000000ag", "100000000000|00000000000000ab"} {
		if _, _, ok := parseAdmittedKey([]byte(bad)); ok {
			t.Errorf("admitted key %q parsed", bad)
		}
	}
}
