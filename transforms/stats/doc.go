// Package stats is logveil's pure statistics: per event-time window, page
// views, unique visitors, visits and time on site, bounce rate and the
// dimensions (pages, countries, referrers, searches, ...), k-anonymous.
//
// Flow: an anonymized transforms.Record → Hit (hit.go; its line codec is the
// <prefix>.visits value) → Aggregator (aggregator.go: one per input
// partition, windows closed against a clock) → Partial (the
// <prefix>.partials value) → Merger (merge.go: sums partitions, k-anonymity,
// "(other)", max_values) → Row (the <prefix>.stats value). Config.Validate
// checks the settings; WindowKey names a window.
package stats
