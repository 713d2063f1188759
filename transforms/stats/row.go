package stats

// Row is one published figure: the <prefix>.stats schema (README). Every
// row has its window, dimension, value, views and visitors; a window's
// total row has Totals (unless it is suppressed), its privacy row Privacy.
// The JSON is flat: the embedded kinds' fields are the row's.
type Row struct {
	WindowStart string `json:"window_start"`
	WindowSize  string `json:"window_size"`
	// Range is set on rows that combine daily rows (logveil stats --range,
	// /api/stats?range=): 7d, 30d or month; their visitors are sums of
	// daily unique visitors.
	Range string `json:"range,omitempty"`
	// Site is the host of a per-site table's row; empty in the all-sites
	// table.
	Site      string `json:"site,omitempty"`
	Dimension string `json:"dimension"`
	Value     string `json:"value"`
	Views     int64  `json:"views"`
	Visitors  int64  `json:"visitors"`
	*Totals
	*Privacy
	// Suppressed: a window with fewer than k visitors publishes its total
	// row with no figures.
	Suppressed bool `json:"suppressed,omitempty"`
	Final      bool `json:"final"`
}

// Totals are a total row's figures beyond views and visitors.
type Totals struct {
	*HitCounts    // k-anonymity
	*VisitFigures // final rows
}

// HitCounts are a window's bots' hits and people's bytes.
type HitCounts struct {
	Bots  int64 `json:"bots"`
	Bytes int64 `json:"bytes"`
}

// VisitFigures are a closed window's visits (a visit ends at the window's
// end) and, when there were any, what they were like.
type VisitFigures struct {
	Visits int64 `json:"visits"`
	*VisitMeans
}

// VisitMeans describe a window's visits; the duration quantiles are left
// out under differential privacy and on combined (range) rows.
type VisitMeans struct {
	VisitDurationMean float64  `json:"visit_duration_mean_s"`
	VisitDurationP50  *float64 `json:"visit_duration_p50_s,omitempty"`
	VisitDurationP90  *float64 `json:"visit_duration_p90_s,omitempty"`
	PagesPerVisit     float64  `json:"pages_per_visit"`
	BounceRate        float64  `json:"bounce_rate"`
}

// Privacy is a window's privacy record: what was published under which
// mechanism, and what was folded, capped or noised.
type Privacy struct {
	K               int   `json:"k,omitempty"` // k-anonymity's k; k_search for search terms
	KSearch         int   `json:"k_search,omitempty"`
	SuppressedCells int64 `json:"suppressed_cells"`
	*Folded
	*Noise
	// TimeZone is stats.time_zone, when set.
	TimeZone   string `json:"time_zone,omitempty"`
	IPv4Prefix *int   `json:"ipv4_prefix,omitempty"`
	IPv6Prefix *int   `json:"ipv6_prefix,omitempty"`
	// SaltEpoch is the UTC day (days since 1970-01-01) of the window's
	// start: the salt of that day made its pseudonyms (multi-day windows
	// span one salt per day); none on combined (range) rows.
	SaltEpoch *int64 `json:"salt_epoch,omitempty"`
	// EventsK and EventRungs: with k-anonymous events (anonymize.events_k),
	// its k and the share of the window's page views whose events were
	// written at each rung of the ladder (README: k-anonymous events);
	// k-anonymity only (under differential privacy exact counts would
	// not be private).
	EventsK    int                `json:"events_k,omitempty"`
	EventRungs map[string]float64 `json:"event_rungs,omitempty"`
}

// Folded is k-anonymity's account of what went to (other).
type Folded struct {
	SuppressedEvents int64 `json:"suppressed_events"`
	CappedEvents     int64 `json:"capped_events"`
	CappedVisitors   int64 `json:"capped_visitors"`
	CappedSites      int64 `json:"capped_sites,omitempty"`
	// LateEvents: hits this window counts that came after a shorter window
	// they fall in had closed (that window's rows miss them).
	LateEvents int64 `json:"late_events,omitempty"`
}

// Noise is differential privacy's record (stats.privacy: differential).
type Noise struct {
	Mechanism          string  `json:"mechanism"`
	Epsilon            float64 `json:"epsilon"`
	Delta              float64 `json:"delta"`
	Rho                float64 `json:"rho"`
	Mechanisms         int     `json:"mechanisms"`
	SigmaVisitors      float64 `json:"sigma_visitors"`
	SigmaViews         float64 `json:"sigma_views"`
	SigmaTotalVisitors float64 `json:"sigma_total_visitors"`
	SigmaTotalViews    float64 `json:"sigma_total_views"`
	SigmaVisits        float64 `json:"sigma_visits"`
	SigmaDuration      float64 `json:"sigma_duration"`
	VisitsPerVisitor   int     `json:"visits_per_visitor"`
	VisitSeconds       int     `json:"visit_seconds"`
	Threshold          float64 `json:"threshold"`
	ValuesPerVisitor   int     `json:"values_per_visitor"`
	ViewsPerValue      int     `json:"views_per_value"`
	BoundedEvents      int64   `json:"bounded_events"`
}

// AppendKey appends the row's <prefix>.stats key: window start, size,
// dimension and value.
func (r *Row) AppendKey(dst []byte) []byte {
	dst = append(dst, r.WindowStart...)
	dst = append(dst, '|')
	dst = append(dst, r.WindowSize...)
	dst = append(dst, '|')
	dst = appendDimension(dst, r.Dimension, r.Site)
	dst = append(dst, '|')
	return append(dst, r.Value...)
}
