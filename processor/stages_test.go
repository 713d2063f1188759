package processor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

type everyDay struct{}

func (everyDay) Salt(day int64) ([]byte, bool) { return []byte{byte(day), 1}, true }

// testKafka is the default Kafka settings, topics lv.*.
var testKafka = func() config.KafkaSettings {
	c := config.Default()
	c.Kafka.TopicPrefix = "lv"
	return c.MustResolve().Kafka
}()

// testEngine is the anonymize stage's engine with the default policy;
// pseudonyms and hits with visits.
func testEngine(tb testing.TB, visits bool) *engine.Engine {
	tb.Helper()
	p, err := transforms.Default().Resolve()
	if err != nil {
		tb.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	opt := engine.Options{Events: engine.JSON, Rejects: engine.Records, Hits: visits}
	if visits {
		opt.Salts = everyDay{}
	}
	return engine.New(a, opt)
}

func rawMessages(offset int64, lines ...string) []kafka.Message {
	msgs := make([]kafka.Message, len(lines))
	for i, l := range lines {
		msgs[i] = kafka.Message{Offset: offset + int64(i), Value: []byte(l + "\n")}
	}
	return msgs
}

// TestBatchBuilder: one batch of raw records becomes events and rejects on
// the source partition, keyed by event id, hits grouped per visits
// partition (murmur2 of the pseudonym) and after them the watermark for
// every visits partition; a second batch reuses the buffers and keeps
// nothing of the first.
func TestBatchBuilder(t *testing.T) {
	b := newBatchBuilder(testEngine(t, true), &testKafka, "raw", 2)
	b.setVisitsPartitions(3)
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf(`198.51.%d.%d - - [28/Nov/2026:10:%02d:00 +0000] "GET /p%d HTTP/1.1" 200 1 "-" "-"`, i%7, i%200+1, i, i))
	}
	lines = append(lines, "not a log line")
	b.build(rawMessages(100, lines...))
	events, rejects, hitLines := 0, 0, 0
	watermarks := map[int]bool{}
	hitsSeen := map[int]bool{}
	for i, m := range append(b.out, b.marks...) {
		if i < len(b.out) && bytes.HasPrefix(m.Key, []byte("wm|")) {
			t.Fatal("a watermark among the batch's data: it must be produced after the hits are acknowledged")
		}
		switch m.Topic {
		case testKafka.EventsTopic():
			events++
			var e struct{ ID string }
			if json.Unmarshal(m.Value, &e) != nil || e.ID != string(m.Key) || m.Partition != 2 || !strings.HasPrefix(e.ID, "raw-2-1") {
				t.Fatalf("event %d: key %s partition %d: %s", i, m.Key, m.Partition, m.Value)
			}
		case testKafka.RejectedTopic():
			rejects++
			if string(m.Key) != "raw-2-140" || m.Partition != 2 || !bytes.Contains(m.Value, []byte(`"line":"{w} {w} {w} {w}"`)) {
				t.Fatalf("reject: %s %s", m.Key, m.Value)
			}
		case testKafka.VisitsTopic():
			switch {
			case string(m.Key) == "b|raw/2":
				if len(watermarks) > 0 {
					t.Fatal("hits after a watermark")
				}
				hitsSeen[m.Partition] = true
				for _, l := range strings.Split(strings.TrimSuffix(string(m.Value), "\n"), "\n") {
					var h stats.Hit
					if _, err := stats.ParseHit(m.Key, []byte(l), &h, nil); err != nil || string(h.Source) != "raw/2" || h.Offset < 100 || h.Offset > 139 {
						t.Fatalf("hit %q: %+v %v", l, h, err)
					}
					hitLines++
				}
			case string(m.Key) == "wm|raw/2":
				if string(m.Value) != "w1\t1795862340" { // the batch's largest event time: 10:39
					t.Errorf("watermark %q", m.Value)
				}
				watermarks[m.Partition] = true
			default:
				t.Fatalf("visits message %q", m.Key)
			}
		}
	}
	if events != 40 || rejects != 1 || hitLines != 40 || len(watermarks) != 3 || len(hitsSeen) < 2 ||
		b.batch.Events != 40 || b.batch.Rejects != 1 || b.visits != 40 || b.batch.Reasons[transforms.ErrTime] != 1 {
		t.Fatalf("events %d rejects %d hits %d watermarks %v hit partitions %v; counters %d %d %d %v",
			events, rejects, hitLines, watermarks, hitsSeen, b.batch.Events, b.batch.Rejects, b.visits, b.batch.Reasons)
	}
	// The next batch starts afresh and keeps the watermark's maximum.
	b.build(rawMessages(141, lines[0]))
	if len(b.out) != 1+1 || len(b.marks) != 3 || b.batch.Events != 1 || b.batch.Rejects != 0 || len(b.batch.Reasons) != 0 {
		t.Fatalf("second batch: %d+%d messages, %d events, %d rejects", len(b.out), len(b.marks), b.batch.Events, b.batch.Rejects)
	}
	if v := b.marks[len(b.marks)-1].Value; string(v) != "w1\t1795862340" {
		t.Errorf("watermark went back: %q", v)
	}
}

func TestOutputBalancer(t *testing.T) {
	b := outputBalancer{visits: "v", partials: "p", stats: "s", late: "l"}
	parts := []int{0, 1, 2, 3, 4, 5}
	murmur := func(key string) int {
		return kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(key)}, parts...)
	}
	f := func(m kafka.Message, want int) {
		t.Helper()
		if got := b.Balance(m, parts...); got != want {
			t.Errorf("%s %q (partition %d): %d, want %d", m.Topic, m.Key, m.Partition, got, want)
		}
	}
	f(kafka.Message{Topic: "events", Key: []byte("raw-9-1"), Partition: 9}, 3)                         // the source partition, modulo
	f(kafka.Message{Topic: "v", Key: []byte("b|raw/9"), Partition: 4}, 4)                              // hits: as chosen by pseudonym
	f(kafka.Message{Topic: "v", Key: []byte("wm|raw/9"), Partition: 5}, 5)                             // watermarks: to each partition
	f(kafka.Message{Topic: "p", Key: []byte("1795860000|3600|page|2|v/x")}, murmur("1795860000|3600")) // by window
	f(kafka.Message{Topic: "p", Key: []byte("1795860000|3600|total|0|v")}, murmur("1795860000|3600"))
	f(kafka.Message{Topic: "p", Key: []byte("wm|3"), Partition: 1}, 1)
	f(kafka.Message{Topic: "s", Key: []byte("k1")}, murmur("k1"))
	f(kafka.Message{Topic: "l", Key: []byte("abc")}, murmur("abc"))
}

func TestAckTable(t *testing.T) {
	a := newAckTable()
	if a.take() != nil {
		t.Fatal("an empty table has something to commit")
	}
	a.set("raw", 1, 10, "")
	a.set("raw", 1, 12, "a1 5")
	a.set("raw", 3, 7, "")
	got := a.take()
	if len(got["raw"]) != 2 {
		t.Fatalf("take: %v", got)
	}
	for _, c := range got["raw"] {
		if c.Partition == 1 && (c.Offset != 12 || c.Metadata != "a1 5") || c.Partition == 3 && c.Offset != 7 {
			t.Errorf("commit %+v", c)
		}
	}
	if a.take() != nil {
		t.Error("nothing changed, yet take returns offsets again")
	}
	a.set("raw", 3, 8, "")
	if got := a.take(); len(got["raw"]) != 2 {
		t.Errorf("after a change every partition is committed again: %v", got)
	}
}

// TestEmitLoop: handle sees every batch (not idle notices); emit runs when
// handle asks, when the interval has passed, and once more at the end if
// anything changed since; a failed emit ends the loop.
func TestEmitLoop(t *testing.T) {
	ch := make(chan fetched)
	var handled, emitted int
	done := make(chan struct{})
	go func() {
		emitLoop(time.Hour, ch, func(fetched) {}, func() bool { emitted++; return true }, func(f fetched) bool {
			handled++
			return string(f.msgs[0].Value) == "now"
		})
		close(done)
	}()
	ch <- fetched{msgs: []kafka.Message{{Value: []byte("a")}}}
	ch <- fetched{}                                              // idle
	ch <- fetched{msgs: []kafka.Message{{Value: []byte("now")}}} // emit at once
	ch <- fetched{msgs: []kafka.Message{{Value: []byte("b")}}}   // dirty again
	close(ch)
	<-done
	if handled != 3 || emitted != 2 {
		t.Fatalf("handled %d (want 3), emitted %d (want 2: on request, at the end)", handled, emitted)
	}

	// The interval: a batch then silence is written after the interval.
	ch = make(chan fetched)
	emits := make(chan struct{}, 4)
	done = make(chan struct{})
	go func() {
		emitLoop(50*time.Millisecond, ch, func(fetched) {}, func() bool { emits <- struct{}{}; return true }, func(fetched) bool { return false })
		close(done)
	}()
	ch <- fetched{msgs: []kafka.Message{{}}}
	select {
	case <-emits:
	case <-time.After(5 * time.Second):
		t.Fatal("no emit after the interval")
	}
	close(ch)
	<-done

	// A failed emit (a hard stop) ends the loop without reading further.
	ch = make(chan fetched, 2)
	ch <- fetched{msgs: []kafka.Message{{Value: []byte("now")}}}
	ch <- fetched{msgs: []kafka.Message{{Value: []byte("now")}}}
	calls := 0
	emitLoop(time.Hour, ch, func(fetched) {}, func() bool { calls++; return false }, func(fetched) bool { return true })
	if calls != 1 || len(ch) != 1 {
		t.Errorf("after a failed emit: %d emits, %d batches left unread", calls, len(ch))
	}
}

// BenchmarkBatchBuilder: one chunk of about a thousand generated lines into
// events, and with visits, hits for six visits partitions.
func BenchmarkBatchBuilder(b *testing.B) {
	var buf bytes.Buffer
	loggen.New(loggen.Options{Seed: 4}).WriteN(&buf, 1000)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, visits := range []bool{false, true} {
		b.Run(fmt.Sprintf("visits=%v", visits), func(b *testing.B) {
			bb := newBatchBuilder(testEngine(b, visits), &testKafka, "raw", 0)
			if visits {
				bb.setVisitsPartitions(6)
			}
			msgs := rawMessages(0, lines...)
			b.ReportAllocs()
			for b.Loop() {
				bb.build(msgs)
			}
			b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
