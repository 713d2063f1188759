package statspage

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/transforms/stats"
)

// reportPage is the statistics page: a static report carries its rows, a
// served page fetches them from api/stats. It loads nothing from elsewhere.
//
//go:embed report.html
var reportPage string

// pageCSP lets the page run its one script, by hash, and nothing else: no
// inline script an injected value could add, no framing, no form, no base.
var pageCSP = func() string {
	const open = "<script>"
	i := strings.LastIndex(reportPage, open) + len(open)
	j := i + strings.Index(reportPage[i:], "</script>")
	sum := sha256.Sum256([]byte(reportPage[i:j]))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

// Source describes where a page's rows come from.
type Source struct {
	Description string `json:"description"`
	// RefreshS is how often a served page reloads its rows, in seconds.
	RefreshS int `json:"refresh_s,omitempty"`
	// CSV is a static report's rows as CSV, for its download link (a
	// served page links to api/stats.csv).
	CSV string `json:"csv,omitempty"`
}

// WriteReport writes the statistics page with rows embedded: one HTML file
// that opens offline (logveil aggregate --output html).
func WriteReport(w io.Writer, rows []stats.Row, src Source) error {
	if rows == nil {
		rows = []stats.Row{}
	}
	var csv strings.Builder
	if err := WriteCSV(&csv, rows); err != nil {
		return err
	}
	src.CSV = csv.String()
	return writePage(w, WithRanges(rows), src)
}

// WithRanges returns rows and, when they hold daily windows, the 7d, 30d
// and month ranges combined from them (Range): what the page's range
// selector shows.
func WithRanges(rows []stats.Row) []stats.Row {
	out := rows
	for _, spec := range []string{"7d", "30d", "month"} {
		if rr, err := Range(rows, spec); err == nil {
			out = append(out[:len(out):len(out)], rr...)
		}
	}
	return out
}

// writePage fills the page's two JSON slots. encoding/json escapes <, > and
// &, so no value can close the script element it sits in.
func writePage(w io.Writer, rows []stats.Row, src Source) error {
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

// firstView selects what a served page opens on: the totals and privacy
// records of every window (the chart and the window lists) and every row of
// each size's newest window. The page fetches the rest.
func firstView(rows []stats.Row) []stats.Row {
	newest := map[string]string{}
	for i := range rows {
		newest[rows[i].WindowSize] = max(newest[rows[i].WindowSize], rows[i].WindowStart)
	}
	out := make([]stats.Row, 0, len(rows))
	for _, r := range rows {
		if r.Dimension == "total" || r.Dimension == "privacy" || newest[r.WindowSize] == r.WindowStart {
			out = append(out, r)
		}
	}
	return out
}

// Server serves the statistics of <prefix>.stats over HTTP: the page at
// /, the rows as JSON at /api/stats (filters: window=1h, dimension=page,
// since=24h or an RFC 3339 time), /healthz. It holds the latest row of every
// window since --since and reads what was written since its last read at
// most once per refresh interval, whatever the number of clients.
type Server struct {
	refresh time.Duration
	desc    string
	log     *slog.Logger

	mu      sync.Mutex
	reader  *reader
	readAt  time.Time
	readErr error
}

// NewServer returns a server over cfg's stats topic that keeps windows
// starting at or after since (a duration back from now or an RFC 3339 time;
// empty: all).
func NewServer(cfg config.KafkaSettings, refresh time.Duration, since string, log *slog.Logger) (*Server, error) {
	if since != "" {
		if _, err := ParseSince(since, time.Now()); err != nil {
			return nil, err
		}
	}
	keep := func() Filter {
		f := Filter{Site: AllSites}
		if since != "" {
			f.Since, _ = ParseSince(since, time.Now())
		}
		return f
	}
	r := newReader(cfg, keep)
	if refresh <= 0 {
		refresh = 10 * time.Second
	}
	desc := "live from " + r.topic + " at " + strings.Join(r.k.Brokers(), ",")
	return &Server{refresh: refresh, desc: desc, log: log, reader: r}, nil
}

// current brings the rows up to date when the refresh interval has passed
// and returns those f selects. After a failed read the rows held so far
// are still served, with the error.
func (s *Server) current(ctx context.Context, f Filter) ([]stats.Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readAt.IsZero() || time.Since(s.readAt) >= s.refresh {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		s.readErr = s.reader.update(ctx)
		s.readAt = time.Now()
		if s.readErr != nil {
			s.log.Warn("cannot read the statistics topic", "err", s.readErr)
		}
	}
	return s.reader.selectRows(f), s.readErr
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", pageCSP)
		w.Header().Set("X-Frame-Options", "DENY")
		src := Source{Description: s.desc, RefreshS: int(max(s.refresh, 5*time.Second) / time.Second)}
		// The page carries the rows it opens on, so it shows them before
		// (and without) its first fetch; the script then refreshes them.
		rows, err := s.current(r.Context(), Filter{Site: AllSites})
		if err != nil {
			s.log.Warn("cannot read the statistics topic for the page", "err", err)
		}
		if err := writePage(w, firstView(rows), src); err != nil {
			s.log.Warn("cannot write the page", "err", err)
		}
	case "/api/stats", "/api/stats.csv":
		f, err := statsFilterOf(r)
		if err != nil {
			badParam(w, err)
			return
		}
		rows, err := s.current(r.Context(), f)
		if err != nil && len(rows) == 0 {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if r.URL.Query().Get("ranges") == "1" {
			rows = WithRanges(rows)
		}
		if rng := r.URL.Query().Get("range"); rng != "" {
			if rows, err = Range(rows, rng); err != nil {
				badParam(w, paramError{"range", err})
				return
			}
		}
		if r.URL.Path == "/api/stats.csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="logveil-stats.csv"`)
			err = WriteCSV(w, rows)
		} else {
			w.Header().Set("Content-Type", "application/json")
			err = json.NewEncoder(w).Encode(rows)
		}
		if err != nil {
			s.log.Debug("cannot write rows", "err", err)
		}
	case "/healthz":
		w.Write([]byte("ok\n"))
	default:
		http.NotFound(w, r)
	}
}

// paramError is a bad query parameter. Its Error names the value (for the
// command line, whose user typed it); an HTTP answer names the parameter
// only, never echoing what a client sent.
type paramError struct {
	param string
	err   error
}

func (e paramError) Error() string { return e.err.Error() }

// badParam answers 400 naming the parameter.
func badParam(w http.ResponseWriter, err error) {
	msg := "bad request"
	var pe paramError
	if errors.As(err, &pe) {
		msg = "bad value of the " + pe.param + " parameter"
	}
	http.Error(w, msg, http.StatusBadRequest)
}

// statsFilterOf reads window, dimension and since from the query string.
func statsFilterOf(r *http.Request) (Filter, error) {
	var f Filter
	q := r.URL.Query()
	if v := q.Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return f, paramError{"window", fmt.Errorf("window: %q is not a duration such as 1h", v)}
		}
		f.Window = d
	}
	f.Dimension = q.Get("dimension")
	// site: a host's table; absent, every table; "all", the all-sites one.
	switch v := q.Get("site"); v {
	case "":
		f.Site = AllSites
	case "all":
		f.Site = ""
	default:
		f.Site = v
	}
	if v := q.Get("since"); v != "" {
		t, err := ParseSince(v, time.Now())
		if err != nil {
			return f, paramError{"since", err}
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
