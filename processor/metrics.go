package processor

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logveil/logveil/internal/httpguard"
)

// metrics are the processor's Prometheus metrics. Labels carry only fixed
// values, topic names from the config and partition numbers: never data
// from a log line.
type metrics struct {
	reg             *prometheus.Registry
	recordsIn       prometheus.Counter
	bytesIn         prometheus.Counter
	recordsOut      *prometheus.CounterVec // topic
	bytesOut        prometheus.Counter
	rejected        *prometheus.CounterVec // reason
	stage           *prometheus.HistogramVec
	commitLat       prometheus.Histogram
	lag             *prometheus.GaugeVec // topic, partition
	saltAge         prometheus.Gauge
	ready           prometheus.Gauge
	errors          *prometheus.CounterVec // op
	offsetReset     prometheus.Counter
	statsLate       *prometheus.CounterVec
	statsHits       prometheus.Counter
	statsDuplicates prometheus.Counter
	statsOpen       *prometheus.GaugeVec   // partition
	rungs           *prometheus.CounterVec // rung
	pathValues      *prometheus.CounterVec // decision: admitted, withheld
	httpRefused     prometheus.Counter
	census          *prometheus.GaugeVec // what
}

func newMetrics() *metrics {
	m := &metrics{
		reg:        prometheus.NewRegistry(),
		recordsIn:  prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_records_in_total", Help: "Raw log records consumed."}),
		bytesIn:    prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_bytes_in_total", Help: "Bytes of raw log records consumed."}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_records_out_total", Help: "Records produced and acknowledged, by output topic."}, []string{"topic"}),
		bytesOut:   prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_bytes_out_total", Help: "Bytes of record values produced and acknowledged."}),
		rejected:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_records_rejected_total", Help: "Lines that could not be parsed, by reason."}, []string{"reason"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "logveil_stage_seconds", Help: "Time per batch in each stage (fetch, process, produce).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"stage"}),
		commitLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logveil_commit_seconds", Help: "Offset commit latency.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9)}),
		lag:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logveil_consumer_lag", Help: "High watermark minus next offset, per assigned partition."}, []string{"topic", "partition"}),
		saltAge:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "logveil_salt_epoch_age_seconds", Help: "Age of the newest visitor-pseudonym salt epoch in use."}),
		ready:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "logveil_ready", Help: "1 when consuming and producing succeed, else 0."}),
		errors:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_kafka_errors_total", Help: "Kafka operation failures (retried), by operation."}, []string{"op"}),
		offsetReset: prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_offset_resets_total", Help: "Fetches whose offset had been deleted by retention; restarted at the earliest offset."}),
		statsLate: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_stats_late_total",
			Help: "Hits that arrived after their window of this size had closed (missing from its statistics)."}, []string{"window"}),
		statsHits:       prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_stats_hits_total", Help: "Hits read from the visits topic by the aggregate stage (late and duplicate ones included)."}),
		statsDuplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_stats_duplicates_total", Help: "Hits replayed by the anonymize stage after a crash, recognised by their raw offset and not counted again."}),
		statsOpen:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logveil_stats_open_windows", Help: "Open statistics windows, per visits partition."}, []string{"partition"}),
		rungs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_events_rung_total",
			Help: "Events produced at each rung of the generalisation ladder (k-anonymous events)."}, []string{"rung"}),
		pathValues: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logveil_path_values_total",
			Help: "Path segments decided by population: admitted (k visitors used them that day: written as they are) or withheld (written as their placeholder)."}, []string{"decision"}),
		httpRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "logveil_http_refused_total",
			Help: "Connections to the operations endpoint closed at once because the cap on open connections was reached."}),
		census: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logveil_census",
			Help: "The anonymizer's census of k-anonymous events: keys, admitted (open classes), forgotten (to stay within census_bytes), bytes."}, []string{"what"}),
	}
	m.reg.MustRegister(m.recordsIn, m.bytesIn, m.recordsOut, m.bytesOut, m.rejected, m.stage, m.commitLat,
		m.lag, m.saltAge, m.ready, m.errors, m.offsetReset, m.statsLate, m.statsHits, m.statsDuplicates, m.statsOpen, m.rungs, m.pathValues, m.census, m.httpRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) setLag(topic string, partition int, lag int64) {
	m.lag.WithLabelValues(topic, strconv.Itoa(partition)).Set(float64(lag))
}

// health tracks readiness: the group is joined and the last fetch and
// produce succeeded.
type health struct {
	joined, stages     atomic.Int32 // stages whose group is joined, of stages run
	fetchOK, produceOK atomic.Bool
	m                  *metrics
}

func (h *health) update() {
	v := 0.0
	if h.ready() {
		v = 1
	}
	h.m.ready.Set(v)
}

func (h *health) ready() bool {
	return h.stages.Load() > 0 && h.joined.Load() == h.stages.Load() && h.fetchOK.Load() && h.produceOK.Load()
}

// serveHTTP runs /metrics, /healthz and /readyz until ctx ends, behind
// httpguard's limits. The bound address is sent on bound (useful with
// ":0").
func serveHTTP(ctx context.Context, addr string, pprofOn bool, m *metrics, h *health, log *slog.Logger, bound chan<- string) error {
	mux := http.NewServeMux()
	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !h.ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if bound != nil {
		bound <- ln.Addr().String()
	}
	g := httpguard.New(m.httpRefused.Inc)
	ln = g.Listener(ln)
	srv := g.Server(mux)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info("serving metrics and health", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// MetricNames lists the names of every metric logveil exports, for checking
// dashboards and alerts against the code.
func MetricNames() []string {
	m := newMetrics()
	// Touch the vectors so that they are gathered.
	m.recordsOut.WithLabelValues("x")
	m.rejected.WithLabelValues("x")
	m.stage.WithLabelValues("x")
	m.lag.WithLabelValues("x", "0")
	m.errors.WithLabelValues("x")
	m.statsOpen.WithLabelValues("0")
	m.statsLate.WithLabelValues("1h")
	mfs, err := m.reg.Gather()
	if err != nil {
		panic("BUG: gathering fresh metrics: " + err.Error())
	}
	names := make([]string, 0, len(mfs))
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}
