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
}

// Run reads lines from r, anonymizes them on several workers (the engine's
// loop, as logveil run's) and writes results to w in input order. It
// returns when r is exhausted or an I/O error occurs.
func Run(anon *transforms.Anonymizer, r io.Reader, w io.Writer, opt Options) (Summary, error) {
	opt = opt.withDefaults()
	eopt := engine.Options{Events: engine.JSON, Rejects: engine.Shapes, Newlines: true}
	switch opt.Output {
	case OutputJSONL, "":
	case OutputCombined:
		eopt.Events = engine.Lines
	default:
		return Summary{}, fmt.Errorf("output: %q is not jsonl or combined", opt.Output)
	}
	consume := func(c *chunk, idle bool) error {
		if _, err := w.Write(c.batch.Out); err != nil {
			return fmt.Errorf("cannot write output: %w", err)
		}
		if opt.Rejects != nil && len(c.batch.Rej) > 0 {
			if _, err := opt.Rejects.Write(c.batch.Rej); err != nil {
				return fmt.Errorf("cannot write rejects: %w", err)
			}
		}
		// Nothing else finished: the input is slower than we are, so let
		// what we have out now rather than at exit.
		if idle {
			return flush(w, opt.Rejects)
		}
		return nil
	}
	return runChunks(engine.New(anon, eopt), r, opt, consume)
}

// runChunks is the ordered parallel loop under Run and Aggregate:
// one reader cuts r into chunks of whole lines, opt.Workers goroutines run
// the engine on them, and consume sees the chunks in input order (idle: no
// other chunk is waiting).
func runChunks(e *engine.Engine, r io.Reader, opt Options, consume func(c *chunk, idle bool) error) (Summary, error) {
	start := time.Now()
	opt = opt.withDefaults()
	// Enough chunks in flight to keep every worker busy while the consumer
	// goes in order; recycled through free.
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
	var consumeErr error
	pending := make(map[int]*chunk)
	next := 0
	for c := range done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if consumeErr == nil {
				consumeErr = consume(c, len(done) == 0 && len(pending) == 0)
			}
			b := &c.batch
			st.In += b.Lines
			st.Out += b.Events + b.Errors
			st.ErrorLines += b.Errors
			for reason, n := range b.Reasons {
				st.Rejected[reason.Error()] += n
			}
			if consumeErr != nil {
				// Keep draining so the reader and workers finish; nothing more is consumed.
				drainFree(free, c)
				continue
			}
			free <- c
		}
	}
	st.Elapsed = time.Since(start)
	err := <-readErr
	st.Stopped = stopped
	return st, errors.Join(err, consumeErr)
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
	var carry []byte
	seq := 0
	var pos int64 // the next chunk's first line number
	eof := false
	for !eof {
		c := <-free
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
					c.data, c.seq, c.pos = buf, seq, pos
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
