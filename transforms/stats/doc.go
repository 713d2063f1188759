// Package stats is logveil's pure statistics: per event-time window, page
// views, unique visitors, visits and time on site, bounce rate and the
// dimensions (pages, countries, referrers, searches, ...), k-anonymous.
//
// Flow: an anonymized transforms.Record → Hit (hit.go; its line codec is the
// <prefix>.visits value) → Aggregator (aggregator.go: one per input
// partition, windows closed against a clock; visits.go: a visitor's visits;
// flush.go: a window's cells as Partials) → Partial (partial.go, the
// <prefix>.partials value) → Merger (merge.go: sums partitions, the site
// subtraction rule) → Row (row.go: k-anonymity, "(other)", max_values; the
// <prefix>.stats value). Differential privacy is dp.go and dgauss.go.
// Config.Validate checks the settings; WindowKey names a window.
package stats
