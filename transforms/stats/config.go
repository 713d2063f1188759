package stats

import (
	"cmp"
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
	// all-sites table only. Default 20; 0 is the default, -1 none.
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
	// differential privacy; logveil aggregate draws one per run without it.
	NoiseKeyFile string `yaml:"noise_key_file"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if len(c.Windows) == 0 {
		c.Windows = []time.Duration{time.Hour, 24 * time.Hour}
	}
	c.K = cmp.Or(c.K, 5)
	c.KSearch = cmp.Or(c.KSearch, 10)
	c.MaxValues = cmp.Or(c.MaxValues, 1000)
	c.MaxVisitors = cmp.Or(c.MaxVisitors, 100000)
	c.MaxSites = cmp.Or(c.MaxSites, 20)
	c.Privacy = cmp.Or(c.Privacy, PrivacyKAnonymity)
	c.Epsilon = cmp.Or(c.Epsilon, 1)
	c.Delta = cmp.Or(c.Delta, 1e-7)
	c.ValuesPerVisitor = cmp.Or(c.ValuesPerVisitor, 10)
	c.ViewsPerValue = cmp.Or(c.ViewsPerValue, 5)
	c.VisitsPerVisitor = cmp.Or(c.VisitsPerVisitor, 3)
	c.VisitSeconds = cmp.Or(c.VisitSeconds, 3600)
	c.SessionGap = cmp.Or(c.SessionGap, 30*time.Minute)
	c.Lateness = cmp.Or(c.Lateness, 10*time.Minute)
	return c
}

// Validate applies the defaults and checks every field; errors name the
// field and the value.
func (c Config) Validate() (Config, error) {
	c = c.WithDefaults()
	if len(c.Windows) > maxWindows {
		return c, fmt.Errorf("stats.windows: %d sizes, at most %d", len(c.Windows), maxWindows)
	}
	for _, w := range c.Windows {
		if w < time.Minute || w%time.Minute != 0 || (24*time.Hour)%w != 0 && w%(24*time.Hour) != 0 {
			return c, fmt.Errorf("stats.windows: %s is not a whole number of minutes dividing a day (or whole days)", w)
		}
	}
	if c.K < 1 || c.KSearch < 1 || c.MaxValues < 1 || c.SessionGap < time.Minute || c.Lateness < 0 {
		return c, fmt.Errorf("stats: k, k_search and max_values must be at least 1, session_gap at least 1m, lateness not negative")
	}
	if _, err := c.Location(); err != nil {
		return c, err
	}
	switch c.Privacy {
	case PrivacyKAnonymity:
	case PrivacyDifferential:
		if c.Epsilon <= 0 || c.Epsilon > 20 || math.IsNaN(c.Epsilon) {
			return c, fmt.Errorf("stats.epsilon: %s is not in (0, 20]", formatFloat(c.Epsilon))
		}
		if c.Delta <= 0 || c.Delta > 1e-3 || math.IsNaN(c.Delta) {
			return c, fmt.Errorf("stats.delta: %s is not in (0, 0.001]", formatFloat(c.Delta))
		}
		if c.ValuesPerVisitor < 1 || c.ValuesPerVisitor > 1000 || c.ViewsPerValue < 1 || c.ViewsPerValue > 1000 {
			return c, fmt.Errorf("stats.values_per_visitor and stats.views_per_value must be 1..1000")
		}
		if c.VisitsPerVisitor < 1 || c.VisitsPerVisitor > 100 || c.VisitSeconds < 60 || c.VisitSeconds > 86400 {
			return c, fmt.Errorf("stats.visits_per_visitor must be 1..100 and stats.visit_seconds 60..86400")
		}
		c.MaxSites = -1 // per-site tables are not published under differential privacy
	default:
		return c, fmt.Errorf("stats.privacy: %q is not k-anonymity or differential", c.Privacy)
	}
	if c.MaxSites < -1 || c.MaxSites > 1000 {
		return c, fmt.Errorf("stats.max_sites: %d is not -1 (no per-site tables) or 1..1000", c.MaxSites)
	}
	if c.MaxVisitors < max(1000, c.K, c.KSearch) {
		return c, fmt.Errorf("stats.max_visitors: %d is less than 1000 (or than k)", c.MaxVisitors)
	}
	return c, nil
}

// maxWindows bounds stats.windows (a hit's late windows are a bit each).
const maxWindows = 8

// windowSizes are the window sizes in seconds.
func (c Config) windowSizes() []int64 {
	sizes := make([]int64, len(c.Windows))
	for i, w := range c.Windows {
		sizes[i] = int64(w / time.Second)
	}
	return sizes
}

// Location is the time zone's location; UTC when none is set.
func (c Config) Location() (*time.Location, error) {
	if c.TimeZone == "" || c.TimeZone == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("stats.time_zone: %q is not an IANA time zone name (e.g. Europe/Berlin)", c.TimeZone)
	}
	return loc, nil
}
