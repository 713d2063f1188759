// Package engine is the one per-line loop of every driver: logveil run's
// anonymize stage (Kafka), logveil anonymize (the pipe) and logveil
// aggregate (batch). A line is trimmed of its line ending, held to the
// policy's max_line_bytes, parsed and anonymized (transforms), routed — an
// access event, an error-log record or a reject — and encoded into a Batch
// as the driver asks: events as JSON or as rewritten lines, rejects as
// records with id and reason or as the line's shape, and the statistics'
// hits. So a line gives the same event whichever way it came; what the
// drivers choose differently is in Options.
//
// Flow: raw line → transforms.Worker.Process (parse, enrich, anonymize) →
// Batch (events, rejects, hits) → the driver writes it (processor: Kafka
// topics; processor/pipe: files and the aggregator).
package engine

import (
	"bytes"
	"strconv"

	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/census"
	"github.com/logveil/logveil/transforms/stats"
)

// Encoding is what an accepted line is written as.
type Encoding uint8

const (
	JSON     Encoding = iota // one JSON event (schema event.v1, error.v1 for error-log lines)
	Lines                    // the line rewritten in its own format
	NoEvents                 // nothing: the statistics' hits only (logveil aggregate)
)

// RejectEncoding is what a rejected line is written as.
type RejectEncoding uint8

const (
	// Shapes writes the line's shape (transforms: no value of it
	// survives), one per line; an empty line writes nothing.
	Shapes RejectEncoding = iota
	// Records writes {"schema_version","id","reason","line": shape}, for
	// every line (the rejected topic: each input offset has an output).
	Records
)

// Options are what a driver asks of the engine.
type Options struct {
	Events  Encoding
	Rejects RejectEncoding
	// Newlines ends every event and reject with '\n' (files).
	Newlines bool
	// Hits makes a statistics hit of every access event (Batch.Hits).
	Hits bool
	// Salts enables visitor pseudonyms; nil: none.
	Salts transforms.SaltSource
	// PseudonymInEvents writes the pseudonym as "visitor" into events.
	PseudonymInEvents bool
	// Census, when set, makes events k-anonymous: an event's
	// quasi-identifiers are written at the finest rung of the ladder the
	// census admits (transforms: generalize.go); it needs Salts.
	Census *census.Counter
	// ShareCensus collects in Batch.Census what the census heard, for
	// other processes' censuses.
	ShareCensus bool
}

// Engine is an Anonymizer run with a driver's options. It is shared by the
// workers; each goroutine has a Worker.
type Engine struct {
	anon    *transforms.Anonymizer
	opt     Options
	maxLine int
	census  *census.Counter // nil: events are not k-anonymous
}

// New returns an engine over anon.
func New(anon *transforms.Anonymizer, opt Options) *Engine {
	e := &Engine{anon: anon, opt: opt, maxLine: anon.Policy().MaxLineBytes, census: opt.Census}
	if e.census != nil && e.census.K() <= 1 {
		e.census = nil // k = 1: every tuple has company
	}
	return e
}

// Kind is what a line became.
type Kind uint8

const (
	Event      Kind = iota // an access event
	ErrorEvent             // an anonymized error-log line
	Rejected               // a line that was not read: its shape only
)

// Item is one line's outcome in a Batch. Out and ID alias the batch's
// buffers until its next Reset.
type Item struct {
	Kind   Kind
	Reason error  // Rejected: why (a transforms.Err value, safe as a label)
	Out    []byte // the encoded event, error record, line or reject; without the newline
	ID     []byte // the event id (with Worker.SetSource), else nil
	Pos    int64  // the driver's position of the line (Kafka offset, line number)
	Hit    int    // index into Batch.Hits, -1 for none
	// Visitor is the event's pseudonym with a hit (the visits topic's
	// partitioning key), nil without one.
	Visitor []byte

	rec  int             // the held record and ladder (k-anonymous events); -1 for none, -2 a held error record
	rung transforms.Rung // its class (Holder)
}

// Observation is one visitor newly written in a class not yet open, for a
// census shared by several processes (the Kafka driver).
type Observation struct {
	Day     int32
	Key     census.Key
	Visitor census.Visitor
}

// Batch is what a worker made of some lines, in input order. Its buffers
// are kept from one Reset to the next.
type Batch struct {
	Items []Item
	// Hits are the statistics' view of the access events (Options.Hits);
	// their byte fields alias the batch.
	Hits []stats.Hit
	// Out holds the events in order (each with its newline under
	// Options.Newlines) and Rej the rejects: what a file driver writes.
	Out, Rej []byte
	// MaxTime is the largest event time of the batch's access events.
	MaxTime int64
	// Census are what a shared census must hear of (Options.ShareCensus).
	Census []Observation
	// Counts; Rungs counts the events written at each rung.
	Lines, Events, Errors, Rejects int64
	Bytes                          int64 // the driver's: the lines' bytes
	Reasons                        map[error]int64
	Rungs                          [transforms.NumRungs]int64
	// Admitted and Withheld count the path candidates written as they are
	// (k visitors used them) and as their placeholder.
	Admitted, Withheld int64
	arena              []byte // ids, the hits' and held records' bytes
	recs               []transforms.Record
	ladders            []transforms.Ladder
}

// Add adds o's counts (not its outputs) to b's.
func (b *Batch) Add(o *Batch) {
	b.Lines, b.Events, b.Errors, b.Rejects, b.Bytes = b.Lines+o.Lines, b.Events+o.Events, b.Errors+o.Errors, b.Rejects+o.Rejects, b.Bytes+o.Bytes
	b.MaxTime = max(b.MaxTime, o.MaxTime)
	for reason, n := range o.Reasons {
		b.Reasons[reason] += n
	}
	for r, n := range o.Rungs {
		b.Rungs[r] += n
	}
	b.Admitted, b.Withheld = b.Admitted+o.Admitted, b.Withheld+o.Withheld
}

// Reset empties b, keeping its buffers.
func (b *Batch) Reset() {
	b.Items, b.Hits, b.Out, b.Rej, b.arena = b.Items[:0], b.Hits[:0], b.Out[:0], b.Rej[:0], b.arena[:0]
	b.recs, b.ladders, b.Census = b.recs[:0], b.ladders[:0], b.Census[:0]
	b.MaxTime, b.Lines, b.Events, b.Errors, b.Rejects, b.Bytes = 0, 0, 0, 0, 0, 0
	b.Rungs = [transforms.NumRungs]int64{}
	b.Admitted, b.Withheld = 0, 0
	if b.Reasons == nil {
		b.Reasons = map[error]int64{}
	}
	clear(b.Reasons)
}

// Worker runs lines through the engine on one goroutine.
type Worker struct {
	e  *Engine
	wk *transforms.Worker
	// idPrefix ("topic-partition-") and source ("topic/partition") name
	// the lines' origin (SetSource); empty: no ids.
	idPrefix, source []byte
	hit              stats.Hit
	path             []byte // a held record's path as admitted (write)
}

// NewWorker returns a worker for one goroutine.
func (e *Engine) NewWorker() *Worker {
	wk := e.anon.NewWorker()
	if e.opt.Salts != nil {
		wk.SetSaltSource(e.opt.Salts)
	}
	wk.EmitPseudonym = e.opt.PseudonymInEvents
	wk.Population = e.census != nil
	return &Worker{e: e, wk: wk}
}

// SetSource names the Kafka partition the lines come from: events get the
// id "topic-partition-offset" and hits the source "topic/partition".
func (w *Worker) SetSource(topic string, partition int) {
	w.idPrefix = strconv.AppendInt(append(append(w.idPrefix[:0], topic...), '-'), int64(partition), 10)
	w.idPrefix = append(w.idPrefix, '-')
	w.source = strconv.AppendInt(append(append(w.source[:0], topic...), '/'), int64(partition), 10)
}

// SetW3CFields gives the worker the W3C #Fields: line of what came before
// the lines it reads next (transforms.Worker.SetW3CFields).
func (w *Worker) SetW3CFields(line []byte) { w.wk.SetW3CFields(line) }

// Lines runs every '\n'-separated line of data, the first at position pos
// (each next one pos+1), and returns the position after the last.
func (w *Worker) Lines(b *Batch, data []byte, pos int64) int64 {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		w.Read(b, line, pos)
		pos++
	}
	return pos
}

// Line runs one line, read at position pos, into b. With k-anonymous
// events it waits for no company: the event joins the finest class
// already open (Holder), or none.
func (w *Worker) Line(b *Batch, line []byte, pos int64) {
	n := len(b.Items)
	w.Read(b, line, pos)
	if w.e.census != nil {
		w.e.observe(b, n)
		w.writeAlone(b, n)
	}
}

// Read runs one line, read at position pos, into b: parsed, anonymized
// and routed. A reject or an error-log record is encoded at once; an
// event too when the events are not k-anonymous, else it waits in b for a
// Holder to choose its class and write it.
func (w *Worker) Read(b *Batch, line []byte, pos int64) {
	opt := &w.e.opt
	for n := len(line); n > 0 && (line[n-1] == '\n' || line[n-1] == '\r'); n = len(line) {
		line = line[:n-1]
	}
	b.Lines++
	it := Item{Pos: pos, Hit: -1, rec: -1}
	if len(w.idPrefix) > 0 {
		start := len(b.arena)
		b.arena = strconv.AppendInt(append(b.arena, w.idPrefix...), pos, 10)
		it.ID = b.arena[start:len(b.arena):len(b.arena)]
	}
	var err error
	if len(line) > w.e.maxLine {
		err, line = transforms.ErrTooLong, line[:w.e.maxLine]
	} else {
		err = w.wk.Process(line)
	}
	switch {
	case err == transforms.ErrErrorLog:
		it.Kind = ErrorEvent
		b.Errors++
		if w.e.census != nil {
			// No visitor to count (an error is no page view): its client
			// network, country and site are not written.
			transforms.Generalize(&w.wk.Rec, transforms.RungNone)
		}
		if w.e.census != nil {
			// Written in its place among the held events (Write).
			it.rec = -2
			start := len(b.arena)
			switch opt.Events {
			case JSON:
				b.arena = w.wk.AppendErrorJSON(b.arena, it.ID)
			case Lines:
				b.arena = w.wk.AppendErrorLine(b.arena)
			}
			it.Out = b.arena[start:len(b.arena):len(b.arena)]
			break
		}
		start := len(b.Out)
		switch opt.Events {
		case JSON:
			b.Out = w.wk.AppendErrorJSON(b.Out, it.ID)
		case Lines:
			b.Out = w.wk.AppendErrorLine(b.Out)
		}
		it.Out = b.endOut(start, opt)
	case err != nil:
		it.Kind, it.Reason = Rejected, err
		b.Rejects++
		b.Reasons[err]++
		start := len(b.Rej)
		switch {
		case opt.Rejects == Records:
			b.Rej = appendRejectRecord(b.Rej, w.wk, it.ID, err, line)
		case len(line) > 0:
			b.Rej = w.wk.AppendRedactedLine(b.Rej, line)
		default:
			b.Items = append(b.Items, it)
			return
		}
		it.Out = b.Rej[start:len(b.Rej):len(b.Rej)]
		if opt.Newlines {
			b.Rej = append(b.Rej, '\n')
		}
	default:
		it.Kind = Event
		b.Events++
		rec := &w.wk.Rec
		b.MaxTime = max(b.MaxTime, rec.Time)
		if opt.Hits {
			it.Hit = len(b.Hits)
			w.hit.FromRecord(rec)
			w.hit.Source, w.hit.Offset = w.source, pos
			b.Hits = append(b.Hits, w.hit)
			b.arena = b.Hits[it.Hit].Detach(b.arena)
			if len(rec.Pseudonym) > 0 {
				start := len(b.arena)
				b.arena = append(b.arena, rec.Pseudonym...)
				it.Visitor = b.arena[start:len(b.arena):len(b.arena)]
			}
		}
		if w.e.census == nil {
			it.Out = w.encode(b, rec, it.ID)
			break
		}
		// Held for the census: the record (its bytes in the batch) and its
		// ladder.
		it.rec = len(b.recs)
		var c transforms.Record
		c, b.arena = rec.CloneInto(b.arena)
		b.recs = append(b.recs, c)
		b.ladders = append(b.ladders, w.wk.Ladder(rec))
	}
	b.Items = append(b.Items, it)
}

// encode writes an event as the options say.
func (w *Worker) encode(b *Batch, rec *transforms.Record, id []byte) []byte {
	start := len(b.Out)
	switch w.e.opt.Events {
	case JSON:
		b.Out = w.wk.AppendJSON(b.Out, rec, id)
	case Lines:
		b.Out = w.wk.AppendLine(b.Out, rec)
	}
	return b.endOut(start, &w.e.opt)
}

// endOut ends an output begun at start and returns it (nil for none).
func (b *Batch) endOut(start int, opt *Options) []byte {
	if opt.Events == NoEvents {
		return nil
	}
	out := b.Out[start:len(b.Out):len(b.Out)]
	if opt.Newlines {
		b.Out = append(b.Out, '\n')
	}
	return out
}

// appendRejectRecord writes the rejected topic's record: the reason and
// the line's shape.
func appendRejectRecord(dst []byte, wk *transforms.Worker, id []byte, reason error, line []byte) []byte {
	dst = append(dst, `{"schema_version":`...)
	dst = strconv.AppendInt(dst, transforms.SchemaVersion, 10)
	if len(id) > 0 {
		dst = append(dst, `,"id":"`...)
		dst = append(dst, id...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"reason":"`...)
	dst = append(dst, reason.Error()...)
	dst = append(dst, `","line":`...)
	// The shape is JSON-escaped through a scratch copy.
	mark := len(dst)
	dst = wk.AppendRedactedLine(dst, line)
	red := dst[mark:]
	dst = transforms.AppendJSONString(dst, red)
	dst = append(dst[:mark], dst[mark+len(red):]...)
	return append(dst, '}')
}

// MaxLineBytes is the longest line the engine reads (anonymize.max_line_bytes).
func (e *Engine) MaxLineBytes() int { return e.maxLine }
