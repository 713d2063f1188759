// Package stats is logveil's pure statistics: per event-time window, page
// views, unique visitors, visits and time on site, bounce rate and the
// dimensions (pages, countries, referrers, searches, ...), k-anonymous or
// differentially private.
//
// Flow: an anonymized transforms.Record → Hit (hit.go; its line codec is the
// <prefix>.visits value) → Aggregator (aggregator.go: one per input
// partition, windows closed against a clock; aggregator_visits.go: a
// visitor's visits; aggregator_flush.go: a window's cells as Partials) →
// Partial (partial.go, the <prefix>.partials value) → Merger (merger.go:
// sums partitions, the site subtraction rule; merger_rows.go: k-anonymity,
// "(other)", max_values) → Row (row.go: the <prefix>.stats value, one type
// for each kind of row). Differential privacy is dp.go and dgauss.go.
// Config (config.go) is the stats section; Resolve checks it once into the
// Params an Aggregator and a Merger run. WindowKey names a window.
package stats
