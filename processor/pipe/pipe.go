package pipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms"
)

// Output selects what the pipe writes for each accepted line.
type Output string

const (
	OutputJSONL    Output = "jsonl"    // one JSON event per line
	OutputCombined Output = "combined" // the line rewritten in its own format
)

// Options configure Run.
type Options struct {
	Output  Output
	Rejects io.Writer // redacted rejected lines; nil discards them
	Workers int       // parallel workers; 0 means GOMAXPROCS
	// Stop, when closed, ends the input early (a signal): what was read
	// until then, a cut last line included, is processed and written, and
	// the run returns with Summary.Stopped set.
	Stop <-chan struct{}
	// Warn, when set, is told what is odd about the databases
	// (transforms.Anonymizer.Warnings) of a run that opens them.
	Warn func(string)
}

func (opt Options) withDefaults() Options {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	return opt
}

// Summary counts what a run did. Rejected is by reason (the transforms.Err
// values' texts, safe as labels).
type Summary struct {
	In, Out int64 // lines read, and written (events and error-log records)
	// ErrorLines are the error-log lines among Out (not page views).
	ErrorLines int64
	Rejected   map[string]int64
	Elapsed    time.Duration
	Stopped    bool // the input was ended by Options.Stop
	// Rungs counts the events written at each rung of the generalisation
	// ladder (k-anonymous events, EventsK > 1), by the rung's name.
	Rungs   map[string]int64
	EventsK int
	// PathAdmitted and PathWithheld count the path segments decided by
	// population: written as they are (k visitors used them that day) or
	// as their placeholder.
	PathAdmitted, PathWithheld int64
}

// RejectedTotal sums Rejected.
func (s Summary) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

const chunkSize = 256 << 10

type chunk struct {
	seq   int
	data  []byte // whole lines
	pos   int64  // the position (line number) of its first line
	batch engine.Batch
	// taken: when the sink took it (a held chunk waits Hold at most);
	// held: the bytes of its lines, which it no longer keeps.
	taken time.Time
	held  int64
	// w3c is the last W3C #Fields: line before the chunk.
	w3c []byte
}

// Run reads lines from r, anonymizes them on several workers (the engine's
// loop, as logveil run's) and writes results to w in input order. It
// returns when r is exhausted or an I/O error occurs. With k-anonymous
// events (anonymize.events_k) an event waits until lookahead_lines later
// lines are counted in the census too, or the input pauses for a few
// seconds.
func Run(anon *transforms.Anonymizer, r io.Reader, w io.Writer, opt Options) (Summary, error) {
	opt = opt.withDefaults()
	p := anon.Policy()
	eopt := engine.Options{Events: engine.JSON, Rejects: engine.Shapes, Newlines: true, Census: p.NewCensus()}
	switch opt.Output {
	case OutputJSONL, "":
	case OutputCombined:
		eopt.Events = engine.Lines
	default:
		return Summary{}, fmt.Errorf("output: %q is not jsonl or combined", opt.Output)
	}
	if eopt.Census != nil {
		eopt.Salts = newMemorySalts() // visitors to count, for this run only
	}
	e := engine.New(anon, eopt)
	ew := &eventWriter{w: w, rejects: opt.Rejects, h: e.NewHolder(), lookahead: int64(p.LookaheadLines), hold: p.Hold,
		holdBytes: int64(max(p.LookaheadLines, 1)) * 512, rungs: map[string]int64{}}
	st, err := runChunks(e, r, opt, ew)
	st.Rungs, st.EventsK = ew.rungs, p.EventsK
	st.PathAdmitted, st.PathWithheld = ew.admitted, ew.withheld
	return st, err
}

// eventWriter writes the chunks in order; with k-anonymous events it holds
// each chunk until enough lines after it have come (engine.Holder).
type eventWriter struct {
	w       io.Writer
	rejects io.Writer
	h       *engine.Holder // nil: events are not k-anonymous
	// A chunk waits until lookahead lines after it have come, or for
	// hold (a pausing input), and while the held lines' bytes stay under
	// holdBytes.
	lookahead int64
	hold      time.Duration
	holdBytes int64
	pending   []*chunk
	bytes     int64 // of pending
	rungs     map[string]int64
	// admitted and withheld: path segments decided by population.
	admitted, withheld int64
}

func (ew *eventWriter) take(c *chunk, idle bool) ([]*chunk, error) {
	if ew.h == nil {
		if err := ew.write(c, idle); err != nil {
			return nil, err
		}
		return []*chunk{c}, nil
	}
	ew.h.Add(&c.batch)
	c.taken = time.Now()
	ew.pending = append(ew.pending, c)
	// The batch holds copies of what it needs from the lines: the lines
	// themselves need not wait with it (readChunks gives the chunk a new
	// buffer when it comes back).
	c.held = int64(len(c.data))
	c.data = nil
	ew.bytes += c.held
	return ew.drain(false)
}

// drain writes the pending chunks that have waited enough (all: every
// one), and those the holder writes with them.
func (ew *eventWriter) drain(all bool) ([]*chunk, error) {
	if ew.h == nil {
		return nil, nil
	}
	// One chunk at a time (and those the holder writes with it), each
	// written before the next is encoded, so that the outputs of a long
	// window are not all in memory at once (the end of the input
	// releases all of it).
	var done []*chunk
	for len(ew.pending) > 0 {
		c := ew.pending[0]
		after := ew.h.Lines() - c.batch.Lines
		if !all && after < ew.lookahead && ew.bytes < ew.holdBytes && time.Since(c.taken) < ew.hold {
			break
		}
		n := ew.h.Release(1)
		for i, c := range ew.pending[:n] {
			ew.bytes -= c.held
			for r, k := range c.batch.Rungs {
				if k > 0 {
					ew.rungs[transforms.Rung(r).String()] += k
				}
			}
			ew.admitted, ew.withheld = ew.admitted+c.batch.Admitted, ew.withheld+c.batch.Withheld
			err := ew.write(c, i == n-1 && n == len(ew.pending))
			ew.h.Reuse(&c.batch)
			done = append(done, c)
			if err != nil {
				return done, err
			}
		}
		ew.pending = ew.pending[n:]
	}
	if len(ew.pending) == 0 {
		ew.pending = ew.pending[:0:0] // let the window's slice go
	}
	return done, nil
}

func (ew *eventWriter) tick() ([]*chunk, error) { return ew.drain(false) }

func (ew *eventWriter) finish() ([]*chunk, error) { return ew.drain(true) }

// write writes a chunk's events and rejects; idle: nothing else waits, so
// what was written is flushed rather than left for the exit (a quiet
// piped logger).
func (ew *eventWriter) write(c *chunk, idle bool) error {
	if _, err := ew.w.Write(c.batch.Out); err != nil {
		return fmt.Errorf("cannot write output: %w", err)
	}
	if ew.rejects != nil && len(c.batch.Rej) > 0 {
		if _, err := ew.rejects.Write(c.batch.Rej); err != nil {
			return fmt.Errorf("cannot write rejects: %w", err)
		}
	}
	if idle {
		return flush(ew.w, ew.rejects)
	}
	return nil
}

// sink takes the chunks in input order (runChunks).
type sink interface {
	// take receives the next chunk (idle: no other chunk is waiting) and
	// returns the chunks it is done with: c, or earlier ones it held.
	take(c *chunk, idle bool) (done []*chunk, err error)
	// tick is called about every second while no chunk comes.
	tick() (done []*chunk, err error)
	// finish is called at the end of the input: nothing may stay held.
	finish() (done []*chunk, err error)
}

// runChunks is the ordered parallel loop under Run and Aggregate:
// one reader cuts r into chunks of whole lines, opt.Workers goroutines run
// the engine on them, and the sink sees the chunks in input order.
func runChunks(e *engine.Engine, r io.Reader, opt Options, out sink) (Summary, error) {
	start := time.Now()
	opt = opt.withDefaults()
	// Enough chunks in flight to keep every worker busy while the consumer
	// goes in order; recycled through free (a chunk the sink holds is
	// replaced by a new one, so the reader goes on).
	inflight := opt.Workers * 4
	free := make(chan *chunk, inflight)
	for range inflight {
		free <- &chunk{}
	}
	todo := make(chan *chunk, inflight)
	done := make(chan *chunk, inflight)

	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := e.NewWorker()
			for c := range todo {
				c.batch.Reset()
				w.SetW3CFields(c.w3c)
				w.Lines(&c.batch, c.data, c.pos)
				done <- c
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	readErr := make(chan error, 1)
	stopped := false
	go func() {
		defer close(todo)
		var err error
		blocks, recycle := pump(r)
		stopped, err = readChunks(blocks, recycle, opt.Stop, free, todo, e.MaxLineBytes())
		readErr <- err
	}()

	st := Summary{Rejected: make(map[string]int64)}
	var sinkErr error
	recycle := func(chunks []*chunk, err error) {
		if sinkErr == nil {
			sinkErr = err
		}
		for _, c := range chunks {
			// Keep the pool at its size; drop what held chunks added.
			select {
			case free <- c:
			default:
			}
		}
	}
	pending := make(map[int]*chunk)
	next := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for open := true; open; {
		var c *chunk
		select {
		case c, open = <-done:
		case <-tick.C:
			if sinkErr == nil {
				recycle(out.tick())
			}
			continue
		}
		if !open {
			break
		}
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			b := &c.batch
			st.In += b.Lines
			st.Out += b.Events + b.Errors
			st.ErrorLines += b.Errors
			for reason, n := range b.Reasons {
				st.Rejected[reason.Error()] += n
			}
			if sinkErr != nil {
				// Keep draining so the reader and workers finish; nothing more is consumed.
				drainFree(free, c)
				continue
			}
			// The sink may hold c: the reader gets a new chunk instead.
			select {
			case free <- &chunk{}:
			default:
			}
			recycle(out.take(c, len(done) == 0 && len(pending) == 0))
		}
	}
	if sinkErr == nil {
		recycle(out.finish())
	}
	st.Elapsed = time.Since(start)
	err := <-readErr
	st.Stopped = stopped
	return st, errors.Join(err, sinkErr)
}

func drainFree(free chan *chunk, c *chunk) {
	select {
	case free <- c:
	default:
	}
}

// block is what pump read: data, or the read's error (io.EOF at the end).
type block struct {
	data []byte
	err  error
}

const blockSize = 64 << 10

// pump reads r on its own goroutine, in blocks of up to 64 KiB, so that the
// chunk cutter can stop between blocks while a read is blocked (a quiet
// CustomLog pipe): a signal then ends the input without waiting for data
// that may never come. At most two blocks wait in the channel; the cutter
// hands their buffers back through the second channel.
func pump(r io.Reader) (<-chan block, chan<- []byte) {
	ch := make(chan block, 2)
	recycle := make(chan []byte, 4)
	go func() {
		defer close(ch)
		for {
			var buf []byte
			select {
			case buf = <-recycle:
			default:
				buf = make([]byte, blockSize)
			}
			n, err := r.Read(buf[:blockSize])
			if n > 0 {
				ch <- block{data: buf[:n]}
			}
			if err != nil {
				ch <- block{err: err}
				return
			}
		}
	}()
	return ch, recycle
}

// readChunks cuts the pumped input into chunks of whole lines. A line
// longer than a chunk grows its chunk, up to maxLine; past that the chunk
// is cut without a newline and the line's pieces are rejected as too long
// or unparsable. When stop closes, the blocks already read are cut too,
// a last line without its newline is handed over as it is, and it returns
// true.
func readChunks(blocks <-chan block, recycle chan<- []byte, stop <-chan struct{}, free, todo chan *chunk, maxLine int) (stopped bool, err error) {
	var carry, w3c []byte
	seq := 0
	var pos int64 // the next chunk's first line number
	eof := false
	for !eof {
		c := <-free
		if cap(c.data) < chunkSize {
			c.data = make([]byte, 0, chunkSize+blockSize)
		}
		buf := append(c.data[:0], carry...)
		carry = carry[:0]
		target := chunkSize
		for {
			for len(buf) < target && !eof {
				var b block
				var ok bool
				select {
				case b, ok = <-blocks:
				case <-stop:
					// Take what was already read, then end the input.
					select {
					case b, ok = <-blocks:
					default:
						ok, stopped = false, true
					}
				}
				if !ok {
					eof = true
					break
				}
				if b.err == io.EOF {
					eof = true
					break
				} else if b.err != nil {
					// Keep every line read before the error (a truncated
					// archive's last, incomplete line is handed over as it is,
					// like the last line at a signal), then report it.
					c.data, c.seq, c.pos, c.w3c = buf, seq, pos, w3c
					todo <- c
					return stopped, fmt.Errorf("cannot read input: %w", b.err)
				}
				buf = append(buf, b.data...)
				select {
				case recycle <- b.data[:cap(b.data)]:
				default:
				}
				// A small block from a pipe means the input trickles: hand
				// over the whole lines we have instead of waiting for a full
				// chunk (CustomLog "|logveil anonymize" on a quiet site). Bulk
				// input through a pipe reads 64 KiB at a time and keeps filling.
				if len(b.data) < 16<<10 && bytes.IndexByte(b.data, '\n') >= 0 {
					break
				}
			}
			if eof {
				break
			}
			if nl := bytes.LastIndexByte(buf, '\n'); nl >= 0 {
				carry = append(carry, buf[nl+1:]...)
				buf = buf[:nl+1]
				break
			}
			if len(buf) > maxLine+chunkSize {
				break
			}
			target = len(buf) + chunkSize
		}
		c.data, c.seq, c.pos = buf, seq, pos
		// The W3C header of the chunks before: a worker reads this one
		// with it (a #Fields: line inside it applies from there on).
		c.w3c = w3c
		if h := transforms.LastW3CFields(buf); h != nil {
			w3c = append([]byte(nil), h...)
		}
		seq++
		pos += int64(bytes.Count(buf, []byte{'\n'}))
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			pos++
		}
		todo <- c
	}
	return stopped, nil
}

// flush flushes buffered writers (bufio.Writer and the like).
func flush(ws ...io.Writer) error {
	for _, w := range ws {
		if f, ok := w.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return fmt.Errorf("cannot write output: %w", err)
			}
		}
	}
	return nil
}
