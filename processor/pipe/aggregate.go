package pipe

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"sync"

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
func Aggregate(acfg transforms.Config, scfg stats.Config, r io.Reader, w io.Writer, opt Options) (Summary, int, error) {
	st, rows, err := AggregateRows(acfg, scfg, r, opt)
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

// AggregateRows is Aggregate returning the rows (for a report).
func AggregateRows(acfg transforms.Config, scfg stats.Config, r io.Reader, opt Options) (Summary, []stats.Row, error) {
	opt = opt.withDefaults()
	anon, err := transforms.NewAnonymizer(acfg)
	if err != nil {
		return Summary{}, nil, fmt.Errorf("anonymize.%w", err)
	}
	defer anon.Close()
	agg, err := stats.NewAggregator(scfg)
	if err != nil {
		return Summary{}, nil, err
	}
	salts := &memorySalts{salts: map[int64][]byte{}}
	loc, _ := scfg.Location() // NewAggregator checked it
	setup := func(wk *transforms.Worker) {
		wk.SetSaltSource(salts)
		wk.SetTimeZone(loc)
	}
	process := func(wk *transforms.Worker, c *chunk) {
		processChunk(wk, c, opt.MaxLineBytes, false, func(wk *transforms.Worker, c *chunk, _ bool) {
			var rec transforms.Record
			rec, c.arena = wk.Rec.CloneInto(c.arena)
			c.recs = append(c.recs, rec)
		})
	}
	consume := func(c *chunk, _ bool) error {
		for i := range c.recs {
			agg.Add(&c.recs[i])
		}
		if opt.Rejects != nil && len(c.rej) > 0 {
			if _, err := opt.Rejects.Write(c.rej); err != nil {
				return fmt.Errorf("cannot write rejects: %w", err)
			}
		}
		return nil
	}
	st, err := runChunks(anon, r, opt, setup, process, consume)
	if err != nil {
		return st, nil, err
	}
	acfg, _ = acfg.Validate() // transforms.New checked it: the prefixes in force
	m := stats.NewMerger(scfg, stats.Masks{IPv4: acfg.IPv4Prefix, IPv6: acfg.IPv6Prefix})
	if scfg.Differential() && scfg.NoiseKeyFile != "" {
		key, err := scfg.LoadNoiseKey()
		if err != nil {
			return st, nil, err
		}
		m.SetNoiseKey(key)
	}
	return st, agg.CloseWith(m), nil
}
