package pipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

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
	// MaxLineBytes rejects longer lines (counted, set aside redacted and
	// truncated). 0 means 1 MiB.
	MaxLineBytes int
	// Stop, when closed, ends the input early (a signal): what was read
	// until then, a cut last line included, is processed and written, and
	// the run returns with Summary.Stopped set.
	Stop <-chan struct{}
}

func (opt Options) withDefaults() Options {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.MaxLineBytes <= 0 {
		opt.MaxLineBytes = 1 << 20
	}
	return opt
}

// Summary counts what a run did. Rejected is by reason (the transforms.Err
// values' texts, safe as labels).
type Summary struct {
	In, Out  int64
	Rejected map[string]int64
	Elapsed  time.Duration
	Stopped  bool // the input was ended by Options.Stop
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
	out   []byte
	rej   []byte
	recs  []transforms.Record // anonymized records, for aggregation
	arena []byte              // their byte fields
	in    int64
	nOut  int64
	rejBy map[error]int64
}

// Run reads lines from r, anonymizes them on several workers and writes
// results to w in input order. It returns when r is exhausted or an I/O error
// occurs.
func Run(a *transforms.Anonymizer, r io.Reader, w io.Writer, opt Options) (Summary, error) {
	opt = opt.withDefaults()
	if opt.Output == "" {
		opt.Output = OutputJSONL
	}
	if opt.Output != OutputJSONL && opt.Output != OutputCombined {
		return Summary{}, fmt.Errorf("output: %q is not jsonl or combined", opt.Output)
	}
	process := func(wk *transforms.Worker, c *chunk) {
		processChunk(wk, c, opt.MaxLineBytes, true, func(wk *transforms.Worker, c *chunk, errorLog bool) {
			switch {
			case errorLog && opt.Output == OutputCombined:
				c.out = wk.AppendErrorLine(c.out)
			case errorLog:
				c.out = wk.AppendErrorJSON(c.out)
			case opt.Output == OutputCombined:
				c.out = wk.AppendLine(c.out, &wk.Rec)
			default:
				c.out = wk.AppendJSON(c.out, &wk.Rec, nil)
			}
			c.out = append(c.out, '\n')
		})
	}
	consume := func(c *chunk, idle bool) error {
		if _, err := w.Write(c.out); err != nil {
			return fmt.Errorf("cannot write output: %w", err)
		}
		if opt.Rejects != nil && len(c.rej) > 0 {
			if _, err := opt.Rejects.Write(c.rej); err != nil {
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
	return runChunks(a, r, opt, nil, process, consume)
}

// runChunks is the ordered parallel loop under Run and Aggregate:
// one reader cuts r into chunks of whole lines, opt.Workers goroutines run
// process on them (each with its own Worker, set up by setup), and consume
// sees the chunks in input order (idle: no other chunk is waiting).
func runChunks(a *transforms.Anonymizer, r io.Reader, opt Options, setup func(*transforms.Worker),
	process func(*transforms.Worker, *chunk), consume func(c *chunk, idle bool) error) (Summary, error) {
	start := time.Now()
	opt = opt.withDefaults()
	// Enough chunks in flight to keep every worker busy while the consumer
	// goes in order; recycled through free.
	inflight := opt.Workers * 4
	free := make(chan *chunk, inflight)
	for range inflight {
		free <- &chunk{rejBy: make(map[error]int64)}
	}
	todo := make(chan *chunk, inflight)
	done := make(chan *chunk, inflight)

	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := a.NewWorker()
			if setup != nil {
				setup(wk)
			}
			for c := range todo {
				process(wk, c)
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
		stopped, err = readChunks(blocks, recycle, opt.Stop, free, todo, opt.MaxLineBytes)
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
			st.In += c.in
			st.Out += c.nOut
			for reason, n := range c.rejBy {
				st.Rejected[reason.Error()] += n
			}
			clear(c.rejBy)
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
					c.data, c.seq = buf, seq
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
		c.data, c.seq = buf, seq
		seq++
		todo <- c
	}
	return stopped, nil
}

// processChunk runs every line of c through wk: accepted lines go to
// accept, rejected ones are counted and written redacted to c.rej. Error-log
// lines (transforms.ErrErrorLog) are accepted with errorLog set when
// errorLogs, else rejected with that reason.
func processChunk(wk *transforms.Worker, c *chunk, maxLine int, errorLogs bool, accept func(wk *transforms.Worker, c *chunk, errorLog bool)) {
	c.out, c.rej, c.arena, c.recs = c.out[:0], c.rej[:0], c.arena[:0], c.recs[:0]
	c.in, c.nOut = 0, 0
	data := c.data
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		c.in++
		var err error
		if len(line) > maxLine {
			err = transforms.ErrTooLong
			line = line[:maxLine]
		} else {
			err = wk.Process(line)
		}
		if err == transforms.ErrErrorLog && errorLogs {
			accept(wk, c, true)
			c.nOut++
			continue
		}
		if err != nil {
			c.rejBy[err]++
			if len(line) > 0 {
				c.rej = wk.AppendRedactedLine(c.rej, line)
				c.rej = append(c.rej, '\n')
			}
			continue
		}
		accept(wk, c, false)
		c.nOut++
	}
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
