package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/logveil/logveil/internal/httpguard"
	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/statspage"
	"github.com/logveil/logveil/transforms/stats"
)

// cmdStats prints the latest value of each row of <prefix>.stats.
func cmdStats(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("stats", stderr, "logveil stats [flags]",
		"Prints the latest value of each row of <prefix>.stats (as a table, or --json), or serves them as the\nstatistics page (--serve).",
		"logveil stats --brokers 127.0.0.1:9092 --window 1h --dimension page")
	b := config.Bind(fs, kafkaKeys...)
	window := fs.Duration("window", 0, "only windows of this size, e.g. 1h (default all)")
	dim := fs.String("dimension", "", "only this dimension: "+strings.Join(stats.DimensionNames(), ", "))
	since := fs.String("since", "", "only windows starting at or after this time (RFC 3339) or this long ago (e.g. 24h); with --serve, also what the server keeps in memory")
	asJSON := fs.Bool("json", false, "print JSON lines in the <prefix>.stats schema instead of a table")
	asCSV := fs.Bool("csv", false, "print CSV (a header, then one line per row) instead of a table")
	site := fs.String("site", "", "one site's table (a host; see stats.max_sites), or * for every table (default: the all-sites table)")
	rng := fs.String("range", "", "combine the daily rows: 7d, 30d or month (visitors are sums of daily unique visitors)")
	serve := fs.String("serve", "", "serve the statistics page and /api/stats on this address (e.g. 127.0.0.1:8080) instead of printing")
	refresh := fs.Duration("refresh", 10*time.Second, "with --serve: read the topic at most this often")
	if code, ok := parseArgs(fs, args, 0); !ok {
		return code
	}
	if *dim != "" && !slices.Contains(stats.DimensionNames(), *dim) {
		fmt.Fprintf(stderr, "logveil stats: --dimension: %q is not one of %s\n", *dim, strings.Join(stats.DimensionNames(), ", "))
		return exitConfig
	}
	cfg, ok := loadSettings("stats", b, stderr)
	if !ok {
		return exitConfig
	}
	if *serve != "" {
		return serveStats(cfg, *serve, *refresh, *since, stderr)
	}
	if *asJSON && *asCSV {
		fmt.Fprintln(stderr, "logveil stats: --json and --csv: choose one")
		return exitConfig
	}
	if *rng != "" && *rng != "7d" && *rng != "30d" && *rng != "month" {
		fmt.Fprintf(stderr, "logveil stats: --range: %q is not 7d, 30d or month\n", *rng)
		return exitConfig
	}
	filter := statspage.Filter{Window: *window, Dimension: *dim, Site: *site}
	if *rng != "" {
		filter.Window = 24 * time.Hour // a range combines the daily rows
	}
	if *since != "" {
		var err error
		if filter.Since, err = statspage.ParseSince(*since, time.Now()); err != nil {
			fmt.Fprintf(stderr, "logveil stats: --%v\n", err)
			return exitConfig
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := statspage.Read(ctx, cfg.Kafka, filter)
	if err != nil {
		fmt.Fprintf(stderr, "logveil stats: %v\n", err)
		return exitIO
	}
	if *rng != "" && len(rows) > 0 {
		if rows, err = statspage.Range(rows, *rng); err != nil {
			fmt.Fprintf(stderr, "logveil stats: %v\n", err)
			return exitIO
		}
	}
	if *asCSV {
		if err := statspage.WriteCSV(stdout, rows); err != nil {
			return exitIO
		}
		return exitOK
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for i := range rows {
			if err := enc.Encode(&rows[i]); err != nil {
				return exitIO
			}
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WINDOW\tSIZE\tSITE\tDIMENSION\tVALUE\tVIEWS\tVISITORS\tDETAIL\tFINAL")
	for i := range rows {
		r := &rows[i]
		if r.Value == stats.Other && r.Views == 0 && r.Visitors == 0 {
			continue // an empty (other): the dimension had nothing to fold
		}
		site := r.Site
		if site == "" {
			site = "(all)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%v\n", r.WindowStart, r.WindowSize, site, r.Dimension, r.Value, r.Views, r.Visitors, detail(r), r.Final)
	}
	if err := tw.Flush(); err != nil {
		return exitIO
	}
	if len(rows) == 0 {
		fmt.Fprintln(stderr, "logveil stats: no rows match")
	}
	return exitOK
}

// detail is the table's summary of a total or privacy row.
func detail(r *stats.Row) string {
	f := func(p *float64, prec int) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', prec, 64)
	}
	switch {
	case r.Totals != nil && r.VisitFigures != nil:
		s := ""
		if h := r.HitCounts; h != nil {
			s = fmt.Sprintf("bots=%d ", h.Bots)
		}
		s += fmt.Sprintf("visits=%d", r.Visits)
		if m := r.VisitMeans; m != nil {
			s += fmt.Sprintf(" duration_mean=%ss p50=%ss p90=%ss pages/visit=%s bounce=%s", f(&m.VisitDurationMean, 0),
				f(m.VisitDurationP50, 0), f(m.VisitDurationP90, 0), f(&m.PagesPerVisit, 2), f(&m.BounceRate, 3))
		}
		return s
	case r.Privacy != nil && r.Noise != nil:
		n := r.Noise
		return fmt.Sprintf("%s epsilon=%g delta=%g rho=%.5f sigma_visitors=%.1f sigma_views=%.1f threshold=%.1f values_per_visitor=%d views_per_value=%d bounded_events=%d",
			n.Mechanism, n.Epsilon, n.Delta, n.Rho, n.SigmaVisitors, n.SigmaViews, n.Threshold, n.ValuesPerVisitor, n.ViewsPerValue, n.BoundedEvents)
	case r.Privacy != nil && r.Folded != nil:
		s := fmt.Sprintf("k=%d k_search=%d suppressed_cells=%d suppressed_events=%d capped_events=%d", r.K, r.KSearch,
			r.SuppressedCells, r.SuppressedEvents, r.CappedEvents)
		if r.CappedVisitors > 0 {
			s += fmt.Sprintf(" capped_visitors=%d", r.CappedVisitors)
		}
		if r.CappedSites > 0 {
			s += fmt.Sprintf(" capped_sites=%d", r.CappedSites)
		}
		if r.LateEvents > 0 {
			s += fmt.Sprintf(" late_events=%d", r.LateEvents)
		}
		if r.TimeZone != "" {
			s += " time_zone=" + r.TimeZone
		}
		return s
	}
	return ""
}

// serveStats serves the statistics page until SIGINT or SIGTERM.
func serveStats(cfg config.Settings, addr string, refresh time.Duration, since string, stderr io.Writer) int {
	log := newLogger(cfg.LogFormat, stderr) // as logveil run logs: text or JSON
	h, err := statspage.NewServer(cfg.Kafka, refresh, since, log)
	if err != nil {
		fmt.Fprintf(stderr, "logveil stats: %v\n", err)
		return exitConfig
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "logveil stats: --serve: %v\n", err)
		return exitConfig
	}
	var refused atomic.Int64
	g := httpguard.New(func() {
		if refused.Add(1)%1000 == 1 {
			log.Warn("connections refused: the cap on open connections is reached, none idle", "cap", httpguard.MaxConns, "refused", refused.Load())
		}
	})
	ln = g.Listener(ln)
	srv := g.Server(h)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	log.Info("serving the statistics", "url", "http://"+ln.Addr().String()+"/", "topic", cfg.Kafka.StatsTopic())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "logveil stats: %v\n", err)
		return exitIO
	}
	return exitOK
}
