package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms/stats"
)

// Options configure Run.
type Options struct {
	Lines    int           // stop after this many generated lines are processed; 0: run until ctx ends
	Duration time.Duration // stop after this long; 0: no limit
	Rate     int           // generated lines per second; default 5000
	Port     int           // fixed broker port so kcat can read the topics; 0: any free port
	Config   config.Config // its anonymize and stats sections; the Kafka and HTTP ones are the demo's
	Refresh  time.Duration // summary interval; default 2s
}

// Run starts an in-process Kafka broker (kfake), replays generated
// access logs into its raw topic, runs the same Runner as `logveil run`
// against it and prints a live summary to out until ctx ends or the limits
// are reached, then a final summary.
func Run(ctx context.Context, opt Options, out io.Writer, log *slog.Logger) error {
	if opt.Rate <= 0 {
		opt.Rate = 5000
	}
	if opt.Refresh <= 0 {
		opt.Refresh = 2 * time.Second
	}
	kopts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, "access-logs")}
	if opt.Port != 0 {
		kopts = append(kopts, kfake.Ports(opt.Port))
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		return fmt.Errorf("cannot start the embedded broker: %w", err)
	}
	defer cluster.Close()
	addrs := cluster.ListenAddrs()

	cfg := opt.Config
	cfg.Kafka.Brokers = addrs
	cfg.Kafka.InputTopics = []string{"access-logs"}
	cfg.Kafka.TopicPrefix = "logveil"
	cfg.Kafka.Partitions = 3
	cfg.Kafka.StatsEmitInterval = time.Second
	cfg.HTTP.Listen = "127.0.0.1:0"
	countries := "from " + cfg.Anonymize.CountryDB
	if cfg.Anonymize.CountryDB == "" {
		dir, err := os.MkdirTemp("", "logveil-demo")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if cfg.Anonymize.CountryDB, err = writeCountryDB(dir); err != nil {
			return fmt.Errorf("demo country table: %w", err)
		}
		countries = "a made-up table for the generated addresses (--geoip FILE for a real database)"
	}
	settings, err := cfg.Resolve()
	if err != nil {
		return err
	}
	runner, err := processor.NewRunner(settings, log)
	if err != nil {
		return err
	}
	bound := make(chan string, 1)
	runner.HTTPBound = bound

	fmt.Fprintf(out, "logveil demo: embedded Kafka broker at %s\n", strings.Join(addrs, ","))
	fmt.Fprintf(out, "  raw topic access-logs (3 partitions) -> logveil.events, logveil.rejected, logveil.visits, logveil.salts\n")
	fmt.Fprintf(out, "  statistics: logveil.visits -> logveil.partials -> logveil.stats (read them with: logveil stats --brokers %s)\n", addrs[0])
	fmt.Fprintf(out, "  read them with: kcat -C -b %s -t logveil.events -o beginning\n", addrs[0])
	fmt.Fprintf(out, "  countries: %s\n", countries)

	runCtx, stopRunner := context.WithCancel(context.Background())
	defer stopRunner()
	runErr := make(chan error, 1)
	go func() { runErr <- runner.Run(runCtx) }()
	select {
	case a := <-bound:
		fmt.Fprintf(out, "  metrics: http://%s/metrics  health: /healthz /readyz\n\n", a)
	case err := <-runErr:
		stopRunner()
		return err
	case <-time.After(30 * time.Second):
	}

	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	var produced atomic.Int64
	feedDone := make(chan error, 1)
	go func() {
		feedDone <- Feed(feedCtx, FeedOptions{Brokers: addrs, Topic: "access-logs", Rate: opt.Rate, Lines: opt.Lines}, &produced)
	}()

	w := newWatcher(addrs)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go w.run(watchCtx)

	start := time.Now()
	tick := time.NewTicker(opt.Refresh)
	defer tick.Stop()
	var deadline <-chan time.Time
	if opt.Duration > 0 {
		deadline = time.After(opt.Duration)
	}
	var feedErr error
	settled := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case err := <-runErr:
			stopFeed()
			stopWatch()
			return fmt.Errorf("processor stopped: %w", err)
		case feedErr = <-feedDone:
			feedDone = nil
			if feedErr != nil {
				break loop
			}
		case <-tick.C:
			w.print(out, runner, produced.Load(), time.Since(start), false)
			// Done when every line is consumed and the statistics have
			// had two more refreshes to catch up.
			if in, _, _ := runner.Counts(); opt.Lines > 0 && feedDone == nil && in >= int64(opt.Lines) && w.hasStats() {
				if settled++; settled > 2 {
					break loop
				}
			}
		}
	}
	stopFeed()
	stopRunner()
	err = <-runErr
	time.Sleep(300 * time.Millisecond) // let the watcher see the last events
	stopWatch()
	w.print(out, runner, produced.Load(), time.Since(start), true)
	if feedErr != nil {
		return feedErr
	}
	return err
}

// FeedOptions configure Feed.
type FeedOptions struct {
	Brokers []string
	Topic   string
	Rate    int // lines per second
	Lines   int // 0: until ctx ends
	Seed    uint64
}

// Feed produces generated access-log lines (loggen, 0.5 % malformed lines)
// to a topic at opt.Rate lines per second until opt.Lines are written or ctx
// ends. produced counts what was acknowledged. Event times: with opt.Lines,
// a site's normal pace (50 lines a second at the daily peak, slower at
// night: loggen's diurnal curve; faster for more than six hours' worth)
// ending 75 minutes ago, so that visits and times on site look real however
// fast the lines are produced and their hourly windows are final at once
// (one hour plus stats.lateness); without, from an hour ago at most up to
// the wall clock, never past it.
func Feed(ctx context.Context, opt FeedOptions, produced *atomic.Int64) error {
	wr := &kafka.Writer{Addr: kafka.TCP(opt.Brokers...), Topic: opt.Topic, Balancer: &kafka.RoundRobin{},
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, BatchSize: 1000}
	defer wr.Close()
	seed := opt.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	start, logRate := time.Now().Add(-time.Hour), float64(opt.Rate)
	if opt.Lines > 0 {
		logRate = max(50, float64(opt.Lines)/(6*3600))
		start = time.Unix(loggen.StartFor(time.Now().Add(-75*time.Minute).Unix(), opt.Lines, logRate), 0)
	}
	g := loggen.New(loggen.Options{Seed: seed, Start: start.Unix(), Rate: logRate, Malformed: 0.005})
	step := max(opt.Rate/10, 1)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var buf []byte
	for {
		n := step
		if opt.Lines > 0 {
			n = min(n, opt.Lines-int(produced.Load()))
			if n <= 0 {
				return nil
			}
		}
		if opt.Lines == 0 {
			g.Cap(time.Now().Unix())
		}
		msgs := make([]kafka.Message, 0, n)
		for range n {
			buf = g.Line(buf[:0])
			msgs = append(msgs, kafka.Message{Value: append([]byte(nil), buf[:len(buf)-1]...)})
		}
		if err := wr.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("feeding %s: %w", opt.Topic, err)
		}
		produced.Add(int64(n))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// watcher keeps the latest statistics rows and the latest event for the
// summary, reading the output topics like any consumer.
type watcher struct {
	addrs  []string
	mu     sync.Mutex
	stats  map[string]stats.Row
	sample string
}

func newWatcher(addrs []string) *watcher {
	return &watcher{addrs: addrs, stats: map[string]stats.Row{}}
}

func (w *watcher) run(ctx context.Context) {
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: w.addrs, GroupID: "logveil-demo-watcher",
		GroupTopics: []string{"logveil.events", "logveil.stats"}, MaxWait: 200 * time.Millisecond, StartOffset: kafka.FirstOffset})
	defer rd.Close()
	for {
		m, err := rd.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		w.mu.Lock()
		switch m.Topic {
		case "logveil.events":
			w.sample = string(m.Value)
		case "logveil.stats":
			var row stats.Row
			if m.Value == nil {
				delete(w.stats, string(m.Key))
			} else if json.Unmarshal(m.Value, &row) == nil {
				w.stats[string(m.Key)] = row
			}
		}
		w.mu.Unlock()
	}
}

func (w *watcher) hasStats() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.stats) > 0
}

// summary describes the busiest hourly window of the statistics (the
// newest can hold the last minutes of the feed only), the newest of equals.
func (w *watcher) summary(out io.Writer) {
	var newest string
	var most int64 = -1
	for _, r := range w.stats {
		if r.WindowSize == "1h0m0s" && r.Dimension == "total" && r.Site == "" &&
			(r.Views > most || r.Views == most && r.WindowStart > newest) {
			newest, most = r.WindowStart, r.Views
		}
	}
	if newest == "" {
		return
	}
	tops := map[string]map[string]int{}
	var total stats.Row
	for _, r := range w.stats {
		if r.WindowStart != newest || r.WindowSize != "1h0m0s" || r.Site != "" {
			continue
		}
		switch r.Dimension {
		case "total":
			total = r
		case "page", "country", "search":
			if r.Value != stats.Other {
				if tops[r.Dimension] == nil {
					tops[r.Dimension] = map[string]int{}
				}
				tops[r.Dimension][r.Value] = int(r.Views)
			}
		}
	}
	fmt.Fprintf(out, "  statistics, window %s (1h, k-anonymous, final %v): views %d  visitors %d\n", newest, total.Final, total.Views, total.Visitors)
	fmt.Fprintf(out, "    top pages:     %s\n", top(tops["page"], 5))
	fmt.Fprintf(out, "    top countries: %s\n", top(tops["country"], 5))
	fmt.Fprintf(out, "    top searches:  %s\n", top(tops["search"], 3))
}

func top(m map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	var b strings.Builder
	for i, e := range all {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "%s %d  ", e.k, e.v)
	}
	return b.String()
}

func (w *watcher) print(out io.Writer, r *processor.Runner, produced int64, elapsed time.Duration, final bool) {
	in, evs, rej := r.Counts()
	secs := elapsed.Seconds()
	w.mu.Lock()
	defer w.mu.Unlock()
	title := "live"
	if final {
		title = "final"
	}
	fmt.Fprintf(out, "[%s %5.1fs] produced %d  consumed %d (%.0f/s)  events %d  rejected %d  ready %v\n",
		title, secs, produced, in, float64(in)/secs, evs, rej, r.Ready())
	w.summary(out)
	if w.sample != "" && (final || int(secs)%10 < 2) {
		fmt.Fprintf(out, "  sample event:  %s\n", w.sample)
	}
}
