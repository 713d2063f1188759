package processor

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/transforms/stats"
)

// mergeStage reads <prefix>.partials and writes <prefix>.stats: one
// stats.Merger per partials partition, which holds whole windows (emit.go).
type mergeStage struct {
	stageInfo
	rt *runtime
}

// consume is the merge stage for one partials partition.
func (s *mergeStage) consume(p partitionRun) {
	rt, kc := s.rt, &s.rt.cfg.Kafka
	sources, err := rt.partitionCount(p.genCtx, kc.VisitsTopic())
	if err != nil {
		return
	}
	saved, ok := rt.restore(p.genCtx, p, "m1")
	if !ok {
		return
	}
	quietUntil, wm := saved.pos, saved.marks // wm: aggregator (visits partition) -> its clock
	srcNames := make([]string, sources)
	for i := range srcNames {
		srcNames[i] = strconv.Itoa(i)
	}
	ch, stop := rt.reader(p.topic, p.pa.ID).start(p.runCtx, p.genCtx, p.pa.Offset)
	defer stop()

	lateness := int64(rt.cfg.Stats.Lateness / time.Second)
	merger := stats.NewMerger(rt.cfg.Stats)
	closed := func(key stats.WindowKey) bool {
		for _, s := range srcNames {
			m, ok := wm[s]
			if !ok || m.t-lateness < key.End() {
				return false
			}
		}
		return true
	}
	held := map[stats.WindowKey]int64{} // open window -> its oldest partial's offset
	// A window with partials below the topic's end at start may have had
	// rows published by this partition's previous owner, which this one
	// cannot know: at its final rows it tombstones every cell it lacks.
	inherited := map[stats.WindowKey]bool{}
	inheritBelow := int64(-1)
	published := map[stats.WindowKey]map[string]string{} // window -> row key -> value written
	changed := map[stats.WindowKey]bool{}
	var (
		pos  = int64(-1)
		out  []kafka.Message
		rows []stats.Row
		part stats.Partial
		mark partialsWatermark
	)
	emit := func() bool {
		start := time.Now()
		quiet := pos < quietUntil
		out = out[:0]
		for _, key := range merger.Windows() {
			final := closed(key)
			if !changed[key] && !final {
				continue
			}
			rows = merger.WindowRows(rows[:0], key, final)
			was := published[key]
			now := make(map[string]string, len(rows))
			for i := range rows {
				k := string(rows[i].AppendKey(nil))
				v, _ := json.Marshal(&rows[i])
				now[k] = string(v)
				if was[k] != string(v) {
					out = append(out, kafka.Message{Topic: kc.StatsTopic(), Key: []byte(k), Value: v})
				}
			}
			for k := range was {
				if _, ok := now[k]; !ok {
					out = append(out, kafka.Message{Topic: kc.StatsTopic(), Key: []byte(k)}) // tombstone
				}
			}
			if final && inherited[key] {
				for _, k := range merger.CellKeys(nil, key) {
					if _, ok := now[k]; !ok {
						if _, ok := was[k]; !ok {
							out = append(out, kafka.Message{Topic: kc.StatsTopic(), Key: []byte(k)})
						}
					}
				}
			}
			published[key] = now
			delete(changed, key)
			if final {
				merger.Drop(key)
				delete(held, key)
				delete(inherited, key)
				delete(published, key)
			}
		}
		if quiet {
			out = out[:0]
		}
		if !rt.produce(p.hardCtx, out) {
			return false
		}
		rt.metrics.recordsOut.WithLabelValues(kc.StatsTopic()).Add(float64(len(out)))
		oldest := pos
		for _, o := range held {
			oldest = min(oldest, o)
		}
		p.acks.set(p.topic, p.pa.ID, oldest, encodeMeta("m1", stageMeta{pos: max(pos, quietUntil), marks: wm}))
		rt.metrics.stage.WithLabelValues("merge_emit").Observe(time.Since(start).Seconds())
		return true
	}
	emitLoop(kc.StatsEmitInterval, ch, rt.done, emit, func(f fetched) bool {
		anyClosed := false
		if inheritBelow < 0 {
			inheritBelow = f.hwm // everything a previous owner can have read
		}
		for i := range f.msgs {
			m := &f.msgs[i]
			if m.Value == nil {
				continue // a tombstone
			}
			if bytes.HasPrefix(m.Key, watermarkKeyPrefix) {
				mark = partialsWatermark{}
				if err := json.Unmarshal(m.Value, &mark); err != nil || mark.Dim != watermarkDim {
					rt.metrics.errors.WithLabelValues("partials_decode").Inc()
					continue
				}
				src := strconv.Itoa(mark.Source)
				if m, ok := wm[src]; !ok || mark.Time > m.t {
					wm[src] = sourceMark{t: mark.Time}
					anyClosed = true
				}
				continue
			}
			part = stats.Partial{}
			if err := json.Unmarshal(m.Value, &part); err != nil {
				rt.metrics.errors.WithLabelValues("partials_decode").Inc()
				continue
			}
			key := stats.WindowKey{Start: part.Start, Size: part.Size}
			if closed(key) {
				continue // the window's final rows are written
			}
			merger.Add(&part)
			if _, ok := held[key]; !ok {
				held[key] = m.Offset
			}
			if m.Offset < inheritBelow {
				inherited[key] = true
			}
			changed[key] = true
		}
		pos = f.msgs[len(f.msgs)-1].Offset + 1
		rt.metrics.setLag(p.topic, p.pa.ID, max(f.hwm-pos, 0))
		return anyClosed // a watermark moved: windows may be final
	})
}
