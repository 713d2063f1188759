package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// key is one configuration key: its path in the YAML tree, the flag that
// sets it (if any), the README's note on it, and for the Kafka section's
// numbers the range Resolve checks (README: Configuration is rendered from
// this table and Default by Reference).
type key struct {
	path     string
	flag     string
	help     string
	min, max float64 // numbers and durations (seconds) checked by Resolve; both zero: not here
}

// keys lists every key of Config, in the order of the reference.
var keys = []key{
	{path: "anonymize.input_format", flag: "input-format", help: "auto | a name of Input formats | w3c:<#Fields: list> | w3c-tab:<#Fields: list> | apache-error | nginx-error | an Apache LogFormat | an nginx log_format"},
	{path: "anonymize.ipv4_prefix", flag: "ipv4-prefix", help: "bits kept of IPv4 client addresses (0..24; 0 keeps none)"},
	{path: "anonymize.ipv6_prefix", flag: "ipv6-prefix", help: "bits kept of IPv6 client addresses (0..64)"},
	{path: "anonymize.trusted_proxies", help: "CIDRs/addresses of proxies; the client is then the right-most untrusted X-Forwarded-For hop"},
	{path: "anonymize.country_db", flag: "geoip", help: "country or city mmdb; empty: every public address is ZZ"},
	{path: "anonymize.asn_db", flag: "asn", help: "ASN mmdb (network provider); empty: no asn/as_org"},
	{path: "anonymize.time_precision", flag: "time-precision", help: "second | minute | hour"},
	{path: "anonymize.query_allow", help: "query parameters kept (a value only when route-like)"},
	{path: "anonymize.search_params", help: "site-search parameters -> search_terms"},
	{path: "anonymize.route_templates", help: `e.g. ["/blog/{slug}", "/files/*/raw"]: matching paths are written as the template`},
	{path: "anonymize.safe_segments", help: "path segments kept verbatim wherever they appear, e.g. [Impressum, FAQ]"},
	{path: "anonymize.search_terms_in_events", help: "also write search_terms into events (else only the k_search-anonymous statistics count them)"},
	{path: "anonymize.internal_hosts", help: "the site's own host names, for referrer_type internal"},
	{path: "anonymize.policy_version", flag: "policy-version", help: "privacy-policy version written into every event"},
	{path: "anonymize.max_line_bytes", help: "a longer line is rejected (its shape set aside), whichever way it came"},
	{path: "anonymize.events_k", flag: "events-k", help: "k-anonymous events: network, provider, country, browser, OS, device and site only at a rung at least k visitors share that day; 1: off"},
	{path: "anonymize.census_bytes", help: "the bound of the census counting them"},
	{path: "anonymize.lookahead_lines", help: "an event waits for company until this many later lines have come (a window; memory: these lines)"},
	{path: "anonymize.hold", help: "or this long at most (live input, Kafka): the delay traded for finer events"},

	{path: "stats.windows", flag: "window", help: "tumbling event-time windows: whole minutes dividing a day, or whole days"},
	{path: "stats.k", flag: "k", help: "a published cell has at least k distinct visitors; smaller ones fold into (other)"},
	{path: "stats.k_search", help: "the same for search terms"},
	{path: "stats.max_values", help: "values per dimension and window; the rest go to (other), bounding memory"},
	{path: "stats.max_visitors", help: "visitors whose visits a window follows per input partition (~350 B each); the rest are counted, their visits not followed"},
	{path: "stats.max_sites", help: "sites (hosts) with tables of their own per window and partition; 0 or -1: none"},
	{path: "stats.session_gap", help: "a visit ends after this much inactivity (and at its window's end)"},
	{path: "stats.lateness", help: "a window closes (final) this long after its end in event time; later hits are late"},
	{path: "stats.time_zone", help: "IANA name (Europe/Berlin): windows, hour of day, weekday and the pseudonyms' day in local time; empty: UTC"},
	{path: "stats.privacy", help: "k-anonymity | differential (noise on every count; see Statistics)"},
	{path: "stats.epsilon", help: "differential: epsilon of a visitor's day, all windows and dimensions together"},
	{path: "stats.delta", help: "differential: delta of a visitor's day"},
	{path: "stats.values_per_visitor", help: "differential: values a visitor counts in per dimension and window"},
	{path: "stats.views_per_value", help: "differential: views a visitor counts per value and window"},
	{path: "stats.visits_per_visitor", help: "differential: visits a visitor counts per window (the first, by start)"},
	{path: "stats.visit_seconds", help: "differential: a visit's duration is clamped to this"},
	{path: "stats.noise_key_file", help: "differential: the mergers' shared secret (32+ bytes); required by logveil run and aggregate"},

	{path: "kafka.brokers", flag: "brokers", help: "bootstrap brokers"},
	{path: "kafka.client_id", help: "the client's name to the brokers"},
	{path: "kafka.group_id", flag: "group-id", help: "consumer group: instances with the same group share the partitions"},
	{path: "kafka.input_topics", flag: "input-topics", help: "raw lines, one per message; a missing one is an error at start"},
	{path: "kafka.topic_prefix", flag: "topic-prefix", help: "outputs: <prefix>.events, .rejected, .visits, .salts, .partials, .stats (.late), .census, .admitted"},
	{path: "kafka.compression", help: "zstd | gzip | snappy | lz4 | none (zstd at its fastest level)"},
	{path: "kafka.fetch_max_bytes", help: "per fetch and partition (compressed)", min: 1 << 10, max: 256 << 20},
	{path: "kafka.chunk_bytes", help: "a fetch is handed to a stage in chunks of at most this many bytes of records", min: 4 << 10, max: 64 << 20},
	{path: "kafka.inflight_bytes", help: "records all partitions of the process hold at once (at least 2 × chunk_bytes): a backlog cannot raise memory", min: 8 << 10, max: 1 << 40},
	{path: "kafka.fetch_max_wait", help: "how long a fetch waits for data", min: 0.001, max: 60},
	{path: "kafka.linger", help: "producer batching delay", min: 0.0001, max: 10},
	{path: "kafka.batch_bytes", help: "a produced batch per partition, before compression: at most the topics' max.message.bytes (1 MiB default), or the broker refuses it", min: 576 << 10, max: 256 << 20},
	{path: "kafka.session_timeout", help: "a crashed instance's partitions move after this long (broker minimum is usually 6s)", min: 1, max: 3600},
	{path: "kafka.commit_interval", help: "how often acknowledged offsets are committed: a crash replays at most about this much", min: 0.01, max: 3600},
	{path: "kafka.partitions", help: "partitions of output topics logveil creates (existing topics are left alone)", min: 1, max: 10000},
	{path: "kafka.replication_factor", help: "replication of created topics: use 3 in production", min: 1, max: 32},
	{path: "kafka.events_retention", help: "retention of <prefix>.events", min: 60, max: 1 << 40},
	{path: "kafka.rejected_retention", help: "retention of <prefix>.rejected", min: 60, max: 1 << 40},
	{path: "kafka.visits_retention", help: "the visits topic carries pseudonyms: keep it short", min: 60, max: 1 << 40},
	{path: "kafka.visits", help: "write <prefix>.visits (statistics input)"},
	{path: "kafka.pseudonym_in_events", help: `also write the daily pseudonym ("visitor") into <prefix>.events`},
	{path: "kafka.partials_retention", help: "internal partials (compact+delete): must outlast the largest window + lateness + 1h", min: 60, max: 1 << 40},
	{path: "kafka.stats_emit_interval", help: "how often changed windows' partials and rows are written (closing windows at once)", min: 0.01, max: 3600},
	{path: "kafka.late", help: "also write hits later than their window's close to <prefix>.late (else only counted)"},
	{path: "kafka.salt_retention", help: "a day's salt is tombstoned this long after the day began (at least 24h)", min: 86400, max: 1 << 40},
	{path: "kafka.tls.enabled", help: "TLS to the brokers"},
	{path: "kafka.tls.ca_file", help: "PEM CA bundle; empty: system roots"},
	{path: "kafka.tls.cert_file", help: "client certificate (with key_file) for mutual TLS"},
	{path: "kafka.tls.key_file", help: "the client certificate's key"},
	{path: "kafka.tls.insecure_skip_verify", help: "do not check the brokers' certificates (tests only)"},
	{path: "kafka.sasl.mechanism", help: "plain | scram-sha-256 | scram-sha-512; empty: no SASL"},
	{path: "kafka.sasl.username", help: "the SASL user"},
	{path: "kafka.sasl.password", help: "masked by check-config; prefer password_file or LOGVEIL_KAFKA_SASL_PASSWORD"},
	{path: "kafka.sasl.password_file", help: "e.g. a mounted Kubernetes secret"},

	{path: "http.listen", flag: "listen", help: `/metrics, /healthz, /readyz; "-" disables`},
	{path: "http.pprof", help: "also serve /debug/pprof/"},
	{path: "memory_limit", help: "Go runtime soft limit, e.g. 256MiB; empty: 90 % of the container's (cgroup) limit if any; off: none; GOMEMLIMIT wins"},
	{path: "shutdown_timeout", help: "graceful stop bound: stop fetching, produce and commit in-flight batches, leave the group", min: 0, max: 3600},
	{path: "log_format", help: "text | json (log/slog on stderr)"},
	{path: "stages", flag: "stages", help: "stages this process runs: anonymize, aggregate, merge, census; empty: all (no aggregate and merge without kafka.visits, no census with events_k 1)"},
}

// keyByPath indexes keys.
var keyByPath = func() map[string]*key {
	byPath := map[string]*key{}
	for i := range keys {
		byPath[keys[i].path] = &keys[i]
	}
	return byPath
}()

// field returns the settable field of c at a key's path.
func field(c *Config, path string) reflect.Value {
	v := reflect.ValueOf(c).Elem()
	for _, name := range strings.Split(path, ".") {
		f, ok := fieldByTag(v, name)
		if !ok {
			panic("BUG: config key " + path + " names no field")
		}
		v = f
	}
	return v
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// paths lists every leaf key of the Config type by its YAML path.
func paths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			if ft := t.Field(i).Type; ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
				walk(ft, prefix+tag+".")
				continue
			}
			out = append(out, prefix+tag)
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// Reference is the README's configuration reference: every key in the
// order of the table, its default from Default, and its note.
func Reference() string {
	def := Default()
	var b strings.Builder
	section := []string{}
	for _, k := range keys {
		parts := strings.Split(k.path, ".")
		// Open the sections this key is in that the previous one was not.
		common := 0
		for common < len(section) && common < len(parts)-1 && section[common] == parts[common] {
			common++
		}
		for i := common; i < len(parts)-1; i++ {
			fmt.Fprintf(&b, "%s%s:\n", strings.Repeat("  ", i), parts[i])
		}
		section = parts[:len(parts)-1]
		line := fmt.Sprintf("%s%s: %s", strings.Repeat("  ", len(parts)-1), parts[len(parts)-1], formatValue(field(&def, k.path)))
		fmt.Fprintf(&b, "%-32s# %s\n", line+" ", k.help)
	}
	return b.String()
}

// formatValue writes a default as the reference shows it: lists in flow
// style, durations as Go writes them without zero units (168h, 10m).
func formatValue(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return shortDuration(x)
	case []time.Duration:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = shortDuration(d)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case string:
		if x == "" || strings.ContainsAny(x, ":#{}[],'\"") || x != strings.TrimSpace(x) || x == "1" {
			return strconv.Quote(x)
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration is d as Go writes it, without zero minutes and seconds.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// checkLimits checks the keys whose range the table holds.
func checkLimits(c *Config) error {
	for _, k := range keys {
		if k.min == 0 && k.max == 0 {
			continue
		}
		v := field(c, k.path)
		var n float64
		var shown string
		switch x := v.Interface().(type) {
		case time.Duration:
			n, shown = x.Seconds(), shortDuration(x)
		case int:
			n, shown = float64(x), strconv.Itoa(x)
		default:
			panic("BUG: a limit on a key that is not a number: " + k.path)
		}
		if n < k.min || n > k.max {
			return fmt.Errorf("%s: %s is out of range %s..%s", k.path, shown, formatLimit(v, k.min), formatLimit(v, k.max))
		}
	}
	return nil
}

func formatLimit(v reflect.Value, n float64) string {
	if _, ok := v.Interface().(time.Duration); ok {
		return shortDuration(time.Duration(n * float64(time.Second)))
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// Flags lists the flag names a key can be set by, sorted.
func Flags() []string {
	var out []string
	for _, k := range keys {
		if k.flag != "" {
			out = append(out, k.flag)
		}
	}
	slices.Sort(out)
	return out
}
