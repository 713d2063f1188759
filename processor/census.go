package processor

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms/census"
)

// censusStage reads <prefix>.census and writes <prefix>.admitted: the
// shared count behind k-anonymous events. Each anonymizer counts the
// visitors of its own raw partitions, and what it counted (a visitor new to
// a key not yet admitted) comes here, partitioned by key, so that one
// census counts a key's visitors from every instance; a key that reaches k
// is written to <prefix>.admitted, which every anonymizer reads (admitted.go).
//
// Recovery: counts are sets, so a replay counts nothing twice. The stage
// commits the first offset of the oldest day it still counts (today and
// yesterday), with that day as metadata; a restart replays from there, and
// may write an admitted key again (the topic is compacted).
type censusStage struct {
	stageInfo
	rt *runtime
}

func (s *censusStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	n, err := rt.partitionCount(p.genCtx, kc.CensusTopic())
	if err != nil {
		return
	}
	// census_bytes bounds the census of all partitions together.
	counter := census.New(rt.cfg.Anonymize.EventsK, rt.cfg.Anonymize.CensusBytes/max(n, 1))
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()
	first := map[int32]int64{} // day -> its first observation's offset
	var newest int32
	var out []kafka.Message
	var arena []byte
	for f := range ch {
		if len(f.msgs) == 0 {
			continue // idle
		}
		start := time.Now()
		out, arena = out[:0], arena[:0]
		for i := range f.msgs {
			m := &f.msgs[i]
			if !bytes.HasPrefix(m.Key, censusKeyPrefix) {
				continue
			}
			for value := m.Value; len(value) > 0; {
				line := value
				if j := bytes.IndexByte(value, '\n'); j >= 0 {
					line, value = value[:j], value[j+1:]
				} else {
					value = nil
				}
				o, ok := parseObservation(line)
				if !ok {
					rt.metrics.errors.WithLabelValues("census_decode").Inc()
					continue
				}
				if _, ok := first[o.Day]; !ok {
					first[o.Day] = m.Offset
				}
				newest = max(newest, o.Day)
				if admitted, added := counter.Observe(o.Day, o.Key, o.Visitor); admitted && added {
					k := len(arena)
					arena = appendAdmittedKey(arena, o.Day, o.Key)
					out = append(out, kafka.Message{Topic: kc.AdmittedTopic(), Key: arena[k:len(arena):len(arena)], Value: admittedValue})
				}
			}
		}
		if !rt.produce(p.hardCtx, out) {
			rt.done(f)
			return
		}
		rt.done(f)
		rt.metrics.recordsOut.WithLabelValues(kc.AdmittedTopic()).Add(float64(len(out)))
		// Days before yesterday are no longer counted: commit past them.
		held := f.msgs[len(f.msgs)-1].Offset + 1
		heldDay := newest
		for day, off := range first {
			if day < newest-1 {
				delete(first, day)
				continue
			}
			if off < held {
				held, heldDay = off, day
			}
		}
		p.acks.set(p.topic, p.pa.ID, held, "c1 "+strconv.Itoa(int(heldDay)))
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-f.msgs[len(f.msgs)-1].Offset-1, 0))
		rt.metrics.stage.WithLabelValues("census").Observe(time.Since(start).Seconds())
	}
}

// admittedValue is an admitted record's value (a tombstone would delete it).
var admittedValue = []byte("k")

// admittedReader tails <prefix>.admitted into an anonymizer's census: what
// the census stage admitted from every instance's visitors. ready is closed
// once it has read to the end, so that an anonymizer that starts (or
// restarts) writes at the rungs already admitted.
type admittedReader struct {
	rt      *runtime
	counter *census.Counter
	ready   chan struct{}
}

func newAdmittedReader(rt *runtime, c *census.Counter) *admittedReader {
	return &admittedReader{rt: rt, counter: c, ready: make(chan struct{})}
}

// run reads the topic from its start until ctx ends.
func (a *admittedReader) run(ctx context.Context) {
	rt := a.rt
	rd := &partitionReader{k: rt.kafka, topic: rt.cfg.Kafka.AdmittedTopic(), partition: 0, maxBytes: 1 << 20, maxWait: 500 * time.Millisecond,
		m: rt.metrics, retryLog: rt.retryLog, log: rt.log, errLabel: "admitted", idleFirst: true}
	ch := make(chan fetched, 1)
	go rd.run(ctx, -1, ch)
	ready := false
	for f := range ch {
		next := int64(-1)
		for _, m := range f.msgs {
			if day, key, ok := parseAdmittedKey(m.Key); ok && m.Value != nil {
				a.counter.Admit(day, key)
			}
			next = m.Offset + 1
		}
		if !ready && (len(f.msgs) == 0 || next >= f.hwm) {
			ready = true
			close(a.ready)
		}
	}
}
