package pipe

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/stats"
)

// memorySalts gives each UTC day a random salt that lives only in memory:
// batch mode needs pseudonyms to count visitors and visits within one run,
// and nothing of them is kept.
type memorySalts struct {
	mu    sync.Mutex
	salts map[int64][]byte
}

func newMemorySalts() *memorySalts { return &memorySalts{salts: map[int64][]byte{}} }

// batchSalts gives each day of a batch the same salt on every run, so
// that one file gives the same statistics every time: the distinct-
// visitor sketches, which visitors max_visitors follows and, under
// differential privacy, which contributions the bounds keep all depend
// on the visitors' ids. The salt is derived from the noise key where
// there is one; else from a constant, which is no weakness here: a
// batch's ids never leave the process (only the rows are written), and
// they are not the ids of logveil run, whose salts are random.
type batchSalts struct{ seed []byte }

func (b batchSalts) Salt(day int64) ([]byte, bool) {
	m := hmac.New(sha256.New, b.seed)
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], uint64(day))
	m.Write([]byte("logveil batch salt"))
	m.Write(d[:])
	return m.Sum(nil), true
}

// KnownSalt implements transforms.KnownSalts: a day this run has a salt for.
func (m *memorySalts) KnownSalt(day int64) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.salts[day]
	return s, ok
}

// KnownSalt implements transforms.KnownSalts: every day has one.
func (b batchSalts) KnownSalt(day int64) ([]byte, bool) { return b.Salt(day) }

func (m *memorySalts) Salt(day int64) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.salts[day]; ok {
		return s, true
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, false
	}
	m.salts[day] = s
	return s, true
}

// Aggregate reads access-log lines from r, anonymizes them on every core,
// computes the statistics of every window in input order (all windows
// closed at the end of input) and writes the rows as JSON lines, in the
// <prefix>.stats schema, to w.
func Aggregate(p transforms.Policy, sp stats.Params, r io.Reader, w io.Writer, opt Options) (Summary, int, error) {
	st, rows, err := AggregateRows(p, sp, r, opt)
	if err != nil {
		return st, 0, err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, row := range rows {
		if err := enc.Encode(row); err != nil {
			return st, 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		return st, 0, fmt.Errorf("cannot write output: %w", err)
	}
	return st, len(rows), nil
}

// ConfigError is a run that could not start: a database that cannot be
// opened or is damaged (exit 2 for the command, not an I/O error).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// AggregateRows is Aggregate returning the rows (for a report). The lines
// go through the engine as logveil run's do; error-log lines are read, not
// counted (they are no page views).
func AggregateRows(p transforms.Policy, sp stats.Params, r io.Reader, opt Options) (Summary, []stats.Row, error) {
	if sp.Differential() && sp.NoiseKey == nil {
		// A key drawn per run would give each rerun of one file fresh
		// noise, and the average of a few reruns would take it away.
		return Summary{}, nil, &ConfigError{errors.New("stats.noise_key_file: required under differential privacy " +
			"(head -c 32 /dev/urandom > noise.key): with a fresh key each run, reruns of one file would publish fresh noise that averages away")}
	}
	anon, err := transforms.NewAnonymizer(p)
	if err != nil {
		return Summary{}, nil, &ConfigError{fmt.Errorf("anonymize.%w", err)}
	}
	defer anon.Close()
	if opt.Warn != nil {
		for _, w := range anon.Warnings() {
			opt.Warn(w)
		}
	}
	agg := stats.NewAggregator(sp)
	e := engine.New(anon, engine.Options{Events: engine.NoEvents, Rejects: engine.Shapes, Newlines: true, Hits: true,
		Salts: batchSalts{seed: sp.NoiseKey}})
	st, err := runChunks(e, r, opt, &aggregateSink{agg: agg, rejects: opt.Rejects})
	if err != nil {
		return st, nil, err
	}
	return st, agg.CloseWith(stats.NewMerger(sp)), nil
}

// aggregateSink counts each chunk's hits, in input order.
type aggregateSink struct {
	agg     *stats.Aggregator
	rejects io.Writer
}

func (s *aggregateSink) take(c *chunk, _ bool) ([]*chunk, error) {
	for i := range c.batch.Hits {
		h := &c.batch.Hits[i]
		s.agg.AddHit(h, h.Offset)
	}
	if s.rejects != nil && len(c.batch.Rej) > 0 {
		if _, err := s.rejects.Write(c.batch.Rej); err != nil {
			return []*chunk{c}, fmt.Errorf("cannot write rejects: %w", err)
		}
	}
	return []*chunk{c}, nil
}

func (s *aggregateSink) tick() ([]*chunk, error)   { return nil, nil }
func (s *aggregateSink) finish() ([]*chunk, error) { return nil, nil }
