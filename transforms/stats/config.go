package stats

import (
	"fmt"
	"math"
	"time"
)

// Config configures an Aggregator and a Merger.
type Config struct {
	// Windows are the tumbling event-time window sizes. Default 1h and 24h:
	// a visit ends at its window's end, so the 24h (UTC day) window gives
	// whole visits and the 1h window hourly traffic.
	Windows []time.Duration `yaml:"windows"`
	// K is the fewest distinct visitors a published cell may have; smaller
	// cells are folded into "(other)". Default 5. KSearch applies to search
	// terms. Default 10.
	K       int `yaml:"k"`
	KSearch int `yaml:"k_search"`
	// MaxValues bounds each dimension per window; further values go to
	// "(other)" so that memory stays bounded. Default 1000.
	MaxValues int `yaml:"max_values"`
	// MaxVisitors bounds the visitors whose visits a window follows on one
	// input partition (about 350 bytes each). Visitors past it still count
	// in every hit figure and in the distinct visitors, but their visits
	// are not followed; the privacy row counts them. Default 100000.
	MaxVisitors int `yaml:"max_visitors"`
	// MaxSites bounds the sites (hosts) with tables of their own in each
	// window and input partition; hosts past it are counted in the
	// all-sites table only. Default 20; 0 or -1: none.
	MaxSites int `yaml:"max_sites"`
	// SessionGap ends a visit after this much inactivity. Default 30m; a
	// visit also ends at its window's end (so at the UTC day boundary).
	SessionGap time.Duration `yaml:"session_gap"`
	// Lateness: a window stays open until the clock (the largest event
	// time seen; in Kafka mode the raw partitions' watermarks, README:
	// event time) is this far past its end; later events for it are
	// counted as late. Default 10m.
	Lateness time.Duration `yaml:"lateness"`
	// TimeZone is the IANA name of the site's time zone (Europe/Berlin):
	// windows start at its local boundaries and hour of day and weekday are
	// its local ones. Default UTC.
	TimeZone string `yaml:"time_zone"`
	// Privacy is k-anonymity (default) or differential (dp.go): noise on
	// every published count, with Epsilon and Delta for a visitor's day
	// and the contribution bounds ValuesPerVisitor (values per dimension
	// and window) and ViewsPerValue (views per value and window).
	Privacy          string  `yaml:"privacy"`
	Epsilon          float64 `yaml:"epsilon"`
	Delta            float64 `yaml:"delta"`
	ValuesPerVisitor int     `yaml:"values_per_visitor"`
	ViewsPerValue    int     `yaml:"views_per_value"`
	// VisitsPerVisitor and VisitSeconds bound a visitor's visits in a
	// window and each visit's duration under differential privacy.
	VisitsPerVisitor int `yaml:"visits_per_visitor"`
	VisitSeconds     int `yaml:"visit_seconds"`
	// NoiseKeyFile holds the secret the noise is derived from (32 bytes or
	// more, e.g. head -c 32 /dev/urandom): every merger must read the same
	// one, no analytics consumer may. Required by logveil run under
	// differential privacy, by logveil run and logveil aggregate alike.
	NoiseKeyFile string `yaml:"noise_key_file"`
}

// Default is every key's default, written here once.
func Default() Config {
	return Config{
		Windows:          []time.Duration{time.Hour, 24 * time.Hour},
		K:                5,
		KSearch:          10,
		MaxValues:        1000,
		MaxVisitors:      100000,
		MaxSites:         20,
		SessionGap:       30 * time.Minute,
		Lateness:         10 * time.Minute,
		Privacy:          PrivacyKAnonymity,
		Epsilon:          1,
		Delta:            1e-7,
		ValuesPerVisitor: 10,
		ViewsPerValue:    5,
		VisitsPerVisitor: 3,
		VisitSeconds:     3600,
	}
}

// Params is a resolved Config: every value checked, and parsed once, for
// an Aggregator and a Merger, which cannot fail on configuration.
type Params struct {
	Config
	// Masks are the prefixes the events were truncated to (the anonymize
	// section's), stated in each window's privacy record; zero leaves
	// them out.
	Masks Masks
	// EventsK is anonymize.events_k, stated in the privacy record with
	// the events' rung shares; 0 or 1: events are not k-anonymous.
	EventsK int
	// NoiseKey (differential privacy) is noise_key_file's secret; nil: a
	// Merger draws a random one, whose noise no other merger reproduces.
	NoiseKey NoiseKey

	sizes         []int64 // window sizes in seconds
	gap, lateness int64   // seconds
	loc           *time.Location
	budget        Budget
}

// Resolve checks every field, naming the field and the value, and loads
// the noise key (differential privacy, when noise_key_file is set).
func (c Config) Resolve() (Params, error) {
	p := Params{Config: c}
	if len(c.Windows) == 0 || len(c.Windows) > maxWindows {
		return p, fmt.Errorf("stats.windows: %d sizes, 1 to %d", len(c.Windows), maxWindows)
	}
	for _, w := range c.Windows {
		if w < time.Minute || w%time.Minute != 0 || (24*time.Hour)%w != 0 && w%(24*time.Hour) != 0 {
			return p, fmt.Errorf("stats.windows: %s is not a whole number of minutes dividing a day (or whole days)", w)
		}
		p.sizes = append(p.sizes, int64(w/time.Second))
	}
	switch {
	case c.K < 1:
		return p, fmt.Errorf("stats.k: %d: k must be at least 1 (1 turns k-anonymity off)", c.K)
	case c.KSearch < 1:
		return p, fmt.Errorf("stats.k_search: %d: k must be at least 1 (1 turns k-anonymity off)", c.KSearch)
	case c.MaxValues < 1:
		return p, fmt.Errorf("stats.max_values: %d: at least 1 value per dimension", c.MaxValues)
	case c.SessionGap < time.Minute:
		return p, fmt.Errorf("stats.session_gap: %s is under 1m", c.SessionGap)
	case c.Lateness < 0:
		return p, fmt.Errorf("stats.lateness: %s is negative", c.Lateness)
	}
	p.gap, p.lateness = int64(c.SessionGap/time.Second), int64(c.Lateness/time.Second)
	var err error
	if p.loc, err = location(c.TimeZone); err != nil {
		return p, err
	}
	switch c.Privacy {
	case PrivacyKAnonymity:
	case PrivacyDifferential:
		if c.Epsilon <= 0 || c.Epsilon > 20 || math.IsNaN(c.Epsilon) {
			return p, fmt.Errorf("stats.epsilon: %s is not in (0, 20]", formatFloat(c.Epsilon))
		}
		if c.Delta <= 0 || c.Delta > 1e-3 || math.IsNaN(c.Delta) {
			return p, fmt.Errorf("stats.delta: %s is not in (0, 0.001]", formatFloat(c.Delta))
		}
		if c.ValuesPerVisitor < 1 || c.ValuesPerVisitor > 1000 || c.ViewsPerValue < 1 || c.ViewsPerValue > 1000 {
			return p, fmt.Errorf("stats.values_per_visitor and stats.views_per_value must be 1..1000")
		}
		if c.VisitsPerVisitor < 1 || c.VisitsPerVisitor > 100 || c.VisitSeconds < 60 || c.VisitSeconds > 86400 {
			return p, fmt.Errorf("stats.visits_per_visitor must be 1..100 and stats.visit_seconds 60..86400")
		}
		p.MaxSites = -1 // per-site tables are not published under differential privacy
		p.budget = c.budget()
		if c.NoiseKeyFile != "" {
			if p.NoiseKey, err = c.loadNoiseKey(); err != nil {
				return p, err
			}
		}
	default:
		return p, fmt.Errorf("stats.privacy: %q is not k-anonymity or differential", c.Privacy)
	}
	if p.MaxSites < -1 || p.MaxSites > 1000 {
		return p, fmt.Errorf("stats.max_sites: %d is not -1 (no per-site tables) or 0..1000", p.MaxSites)
	}
	if c.MaxVisitors < max(1000, c.K, c.KSearch) {
		return p, fmt.Errorf("stats.max_visitors: %d is less than 1000 (or than k)", c.MaxVisitors)
	}
	return p, nil
}

// MustResolve is Resolve for a Config known to be valid (tests, tools): it
// panics otherwise.
func (c Config) MustResolve() Params {
	p, err := c.Resolve()
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return p
}

// Location is the statistics' time zone (UTC when none is set).
func (p Params) Location() *time.Location { return p.loc }

// maxWindows bounds stats.windows (a hit's late windows are a bit each).
const maxWindows = 8

// location is the time zone's location; UTC when none is set.
func location(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("stats.time_zone: %q is not an IANA time zone name (e.g. Europe/Berlin)", tz)
	}
	return loc, nil
}
