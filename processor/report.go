package processor

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/logveil/logveil/transforms"
)

// reportPage is the statistics page: a static report carries its rows, a
// served page fetches them from api/stats. It loads nothing from elsewhere.
//
//go:embed report.html
var reportPage string

// ReportSource describes where a page's rows come from.
type ReportSource struct {
	Description string `json:"description"`
	// RefreshS is how often a served page reloads its rows, in seconds.
	RefreshS int `json:"refresh_s,omitempty"`
}

// WriteReport writes the statistics page with rows embedded: one HTML file
// that opens offline (logveil aggregate --output html).
func WriteReport(w io.Writer, rows []transforms.StatsRow, src ReportSource) error {
	if rows == nil {
		rows = []transforms.StatsRow{}
	}
	return writePage(w, rows, src)
}

// writePage fills the page's two JSON slots. encoding/json escapes <, > and
// &, so no value can close the script element it sits in.
func writePage(w io.Writer, rows []transforms.StatsRow, src ReportSource) error {
	rj, err := json.Marshal(rows) // nil: the page fetches api/stats
	if err != nil {
		return err
	}
	sj, err := json.Marshal(src)
	if err != nil {
		return err
	}
	page := strings.Replace(reportPage, "{{ROWS}}", string(rj), 1)
	page = strings.Replace(page, "{{SOURCE}}", string(sj), 1)
	_, err = io.WriteString(w, page)
	return err
}

// StatsServer serves the statistics of <prefix>.stats over HTTP: the page at
// /, the rows as JSON at /api/stats (filters: window=1h, dimension=page,
// since=24h or an RFC 3339 time), /healthz. It reads the topic as ReadStats
// does, at most once per refresh interval, whatever the number of clients.
type StatsServer struct {
	cfg     Config
	refresh time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	rows    []transforms.StatsRow
	readAt  time.Time
	readErr error
}

// NewStatsServer returns a server over cfg's stats topic.
func NewStatsServer(cfg Config, refresh time.Duration, log *slog.Logger) (*StatsServer, error) {
	cfg, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	if refresh <= 0 {
		refresh = 10 * time.Second
	}
	return &StatsServer{cfg: cfg, refresh: refresh, log: log}, nil
}

// current returns the rows read within the refresh interval, or reads them.
func (s *StatsServer) current(ctx context.Context) ([]transforms.StatsRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.readAt.IsZero() && time.Since(s.readAt) < s.refresh {
		return s.rows, s.readErr
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rows, err := ReadStats(ctx, s.cfg, StatsFilter{})
	s.readAt = time.Now()
	if err != nil {
		s.log.Warn("cannot read the statistics topic", "err", err)
		s.readErr = err // the last rows read stay served with the error
		return s.rows, err
	}
	s.rows, s.readErr = rows, nil
	return rows, nil
}

// ServeHTTP implements http.Handler.
func (s *StatsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'")
		src := ReportSource{Description: "live from " + s.cfg.Kafka.StatsTopic() + " at " + strings.Join(s.cfg.Kafka.Brokers, ","),
			RefreshS: int(max(s.refresh, 5*time.Second) / time.Second)}
		if err := writePage(w, nil, src); err != nil {
			s.log.Warn("cannot write the page", "err", err)
		}
	case "/api/stats":
		f, err := statsFilterOf(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rows, err := s.current(r.Context())
		if err != nil && rows == nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out := make([]transforms.StatsRow, 0, len(rows))
		for _, row := range rows {
			if f.matches(&row) {
				out = append(out, row)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(out); err != nil {
			s.log.Debug("cannot write rows", "err", err)
		}
	case "/healthz":
		w.Write([]byte("ok\n"))
	default:
		http.NotFound(w, r)
	}
}

// statsFilterOf reads window, dimension and since from the query string.
func statsFilterOf(r *http.Request) (StatsFilter, error) {
	var f StatsFilter
	q := r.URL.Query()
	if v := q.Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return f, fmt.Errorf("window: %q is not a duration such as 1h", v)
		}
		f.Window = d
	}
	f.Dimension = q.Get("dimension")
	if v := q.Get("since"); v != "" {
		t, err := ParseSince(v, time.Now())
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	return f, nil
}

// ParseSince reads a --since value: a duration back from now (24h) or an
// RFC 3339 time.
func ParseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since: %q is neither a duration nor an RFC 3339 time", v)
}
