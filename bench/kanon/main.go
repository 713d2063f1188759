// Command kanon measures logveil's k-anonymous events as a privacy
// reviewer would, from the raw input and what logveil writes, without
// logveil's own counts:
//
//   - classes: group a day's events by the quasi-identifiers they carry
//     (client network and domain, ASN and network name, country, continent,
//     browser and its version, OS, device, host, and the traffic class and
//     crawler name); count the distinct real visitors (address and user
//     agent, from the raw line) behind each group. The share of human
//     events in a group of fewer than k visitors must be 0 (the group that
//     carries none of them aside);
//   - utility: per field and for (country, browser, OS, device), the share
//     of human events that keep it, against the bound the population
//     allows (the value, with the traffic class, shared by k visitors that
//     day);
//   - a linkage attack: for sampled visitor-days, the attacker knows two
//     (page, minute) points, takes the tuples the events at those points
//     carry, and claims every event of the day with the same tuple — or,
//     in the second variant, only those within 30 minutes of a known point.
//
// Each measure is also taken on the events without k-anonymity (events_k
// 1), the before.
//
//	go build -o logveil ./cmd/logveil
//	go run ./bench/kanon --logveil ./logveil --geoip geo.mmdb --loggen 200000
//	go run ./bench/kanon --logveil ./logveil --geoip geo.mmdb --highcard 200000
//	go run ./bench/kanon --logveil ./logveil --geoip geo.mmdb --input apache_logs
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/transforms"
)

// qi are the quasi-identifiers an event may carry, and what every class
// keeps apart (traffic, crawler).
var qi = []string{"client_network", "client_domain", "asn", "as_org", "country", "continent", "browser", "browser_version", "os", "device", "host", "traffic", "crawler"}

type event struct {
	visitor string // address and user agent of the raw line
	day     string
	minute  string
	path    string
	t       time.Time
	human   bool
	fields  map[string]string // the quasi-identifiers it carries
	tuple   string
}

func main() {
	bin := flag.String("logveil", "./logveil", "the logveil binary")
	geoip := flag.String("geoip", "", "country database (logveil fetch-geoip)")
	asn := flag.String("asn", "", "ASN database, if any")
	input := flag.String("input", "", "a real access log (combined format)")
	gen := flag.Int("loggen", 0, "or: this many lines of logveil loggen traffic")
	highcard := flag.Int("highcard", 0, "or: this many lines of high-cardinality traffic (ten times as many visitors as loggen's default, a line or two each)")
	k := flag.Int("k", 5, "events_k")
	targets := flag.Int("targets", 2000, "visitor-days attacked")
	flag.Parse()

	raw := lines(*input, *gen, *highcard)
	raw = accepted(raw)
	dir, err := os.MkdirTemp("", "kanon")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in := dir + "/input.log"
	if err := os.WriteFile(in, bytes.Join(raw, []byte("\n")), 0o600); err != nil {
		log.Fatal(err)
	}
	before := run(*bin, in, *geoip, *asn, 1, raw)
	after := run(*bin, in, *geoip, *asn, *k, raw)
	fmt.Printf("%d lines, %d human events, k = %d\n", len(raw), countHuman(before), *k)

	fmt.Println("\nclasses: human events whose published tuple fewer than k visitors share that day")
	for _, r := range []struct {
		name string
		evs  []event
	}{{"events_k 1 (before)", before}, {fmt.Sprintf("events_k %d", *k), after}} {
		alone, few, empty := classes(r.evs, *k)
		h := float64(countHuman(r.evs))
		fmt.Printf("  %-20s one visitor %5.1f %%   fewer than %d %5.1f %%   (no quasi-identifier at all: %.1f %%)\n",
			r.name, 100*float64(alone)/h, *k, 100*float64(few)/h, 100*float64(empty)/h)
	}

	fmt.Println("\nutility: human events that keep the field (the population's bound: its value shared by k visitors that day)")
	for _, f := range [][]string{{"country"}, {"continent"}, {"asn"}, {"browser"}, {"browser_version"}, {"os"}, {"device"}, {"client_network"},
		{"country", "browser", "os", "device"}} {
		kept, bound, total := utility(before, after, f, *k)
		if total == 0 {
			continue
		}
		fmt.Printf("  %-28s kept %5.1f %%   bound %5.1f %%   gap %+5.1f\n", strings.Join(f, "+"),
			100*kept/total, 100*bound/total, 100*(kept-bound)/total)
	}
	fmt.Println("\nhuman events by rung:")
	rungs := map[string]int{}
	for _, e := range after {
		if e.human {
			rungs[rungOf(e)]++
		}
	}
	h := float64(countHuman(after))
	for _, r := range []string{"network", "wide_network", "provider", "browser", "country", "os", "device", "place", "site", "none"} {
		if rungs[r] > 0 {
			fmt.Printf("  %-13s %5.1f %%\n", r, 100*float64(rungs[r])/h)
		}
	}

	fmt.Printf("\nlinkage: %d visitor-days with 3 or more events, two (page, minute) points known\n", *targets)
	for _, r := range []struct {
		name string
		evs  []event
	}{{"events_k 1 (before)", before}, {fmt.Sprintf("events_k %d", *k), after}} {
		for _, window := range []time.Duration{0, 30 * time.Minute} {
			a := attack(r.evs, *targets, window)
			name := "same tuple, whole day"
			if window > 0 {
				name = "same tuple, within 30 min"
			}
			fmt.Printf("  %-20s %-26s day recovered %5.1f %%   precision %.2f   recall %.2f   (%d attacked)\n",
				r.name, name, 100*a.recovered, a.precision, a.recall, a.n)
		}
	}
}

// lines returns the raw lines of the input chosen.
func lines(input string, gen, highcard int) [][]byte {
	var data []byte
	switch {
	case input != "":
		var err error
		if data, err = os.ReadFile(input); err != nil {
			log.Fatal(err)
		}
	case gen > 0:
		var b bytes.Buffer
		loggen.New(loggen.Options{Seed: 1}).WriteN(&b, gen)
		data = b.Bytes()
	case highcard > 0:
		var b bytes.Buffer
		loggen.New(loggen.Options{Seed: 2, Visitors: 200000, Rate: 20}).WriteN(&b, highcard)
		data = b.Bytes()
	default:
		log.Fatal("one of --input, --loggen, --highcard")
	}
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// accepted keeps the lines logveil reads as access events, so that its
// output lines up with the input line for line.
func accepted(raw [][]byte) [][]byte {
	p, err := transforms.Default().Resolve()
	if err != nil {
		log.Fatal(err)
	}
	a, err := transforms.NewAnonymizer(p)
	if err != nil {
		log.Fatal(err)
	}
	w := a.NewWorker()
	var out [][]byte
	for _, l := range raw {
		if w.Process(l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// identity is the visitor of a combined-format line: its address and its
// user agent (the last quoted field).
func identity(l []byte) string {
	addr, _, _ := bytes.Cut(l, []byte(" "))
	ua := ""
	if j := bytes.LastIndexByte(l, '"'); j > 0 {
		if i := bytes.LastIndexByte(l[:j], '"'); i >= 0 {
			ua = string(l[i+1 : j])
		}
	}
	return string(addr) + "\x00" + ua
}

// run anonymizes the input with events_k k and reads the events back.
func run(bin, in, geoip, asn string, k int, raw [][]byte) []event {
	args := []string{"anonymize", "--quiet", "--events-k", fmt.Sprint(k)}
	if geoip != "" {
		args = append(args, "--geoip", geoip)
	}
	if asn != "" {
		args = append(args, "--asn", asn)
	}
	cmd := exec.Command(bin, append(args, in)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("%s %v: %v", bin, args, err)
	}
	var evs []event
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			log.Fatalf("%v: %s", err, sc.Bytes())
		}
		ts, _ := m["time"].(string)
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			log.Fatalf("time %q: %v", ts, err)
		}
		e := event{visitor: identity(raw[len(evs)]), day: ts[:10], minute: ts[:16], t: t, fields: map[string]string{}}
		e.path, _ = m["path"].(string)
		e.human = m["traffic"] == "human"
		var tuple []string
		for _, f := range qi {
			if v, ok := m[f]; ok {
				e.fields[f] = fmt.Sprint(v)
				tuple = append(tuple, f+"="+e.fields[f])
			}
		}
		e.tuple = strings.Join(tuple, " ")
		evs = append(evs, e)
	}
	if len(evs) != len(raw) {
		log.Fatalf("%d events for %d lines", len(evs), len(raw))
	}
	return evs
}

func countHuman(evs []event) int {
	n := 0
	for _, e := range evs {
		if e.human {
			n++
		}
	}
	return n
}

// classes counts human events whose (day, tuple) group has one visitor,
// fewer than k, and that carry no quasi-identifier but their traffic class.
func classes(evs []event, k int) (alone, few, empty int) {
	visitors := map[string]map[string]bool{}
	for _, e := range evs {
		key := e.day + "|" + e.tuple
		if visitors[key] == nil {
			visitors[key] = map[string]bool{}
		}
		visitors[key][e.visitor] = true
	}
	for _, e := range evs {
		if !e.human {
			continue
		}
		if bare(e) {
			empty++
			continue
		}
		n := len(visitors[e.day+"|"+e.tuple])
		if n == 1 {
			alone++
		}
		if n < k {
			few++
		}
	}
	return alone, few, empty
}

// bare: the event carries none of the quasi-identifiers but its traffic
// class and crawler name (the ladder's last rung).
func bare(e event) bool {
	for f := range e.fields {
		if f != "traffic" && f != "crawler" {
			return false
		}
	}
	return true
}

// utility: of the human events that have every field of fs without
// k-anonymity, how many keep them all (with the same values), and how many
// have values (with the traffic class) that k visitors share that day.
func utility(before, after []event, fs []string, k int) (kept, bound, total float64) {
	key := func(e event) (string, bool) {
		s := e.day + "|" + e.fields["traffic"]
		for _, f := range fs {
			v, ok := e.fields[f]
			if !ok {
				return "", false
			}
			s += "|" + v
		}
		return s, true
	}
	visitors := map[string]map[string]bool{}
	for _, e := range before {
		if s, ok := key(e); ok {
			if visitors[s] == nil {
				visitors[s] = map[string]bool{}
			}
			visitors[s][e.visitor] = true
		}
	}
	for i, e := range before {
		s, ok := key(e)
		if !e.human || !ok {
			continue
		}
		total++
		if len(visitors[s]) >= k {
			bound++
		}
		if s2, ok := key(after[i]); ok && s2 == s {
			kept++
		}
	}
	return kept, bound, total
}

// rungOf tells an event's rung from the fields it carries.
func rungOf(e event) string {
	f := e.fields
	_, network := f["client_network"]
	_, version := f["browser_version"]
	_, browser := f["browser"]
	_, asn := f["asn"]
	_, os := f["os"]
	_, device := f["device"]
	_, country := f["country"]
	_, host := f["host"]
	switch {
	case network && strings.HasSuffix(f["client_network"], "/16"):
		return "wide_network" // IPv6 at the default /32 is the same at both rungs: "network"
	case network:
		return "network"
	case version:
		return "provider"
	case browser && asn:
		return "browser"
	case browser:
		return "country"
	case os:
		return "os"
	case device:
		return "device"
	case country:
		return "place"
	case host:
		return "site"
	}
	return "none"
}

type attackResult struct {
	n                            int
	recovered, precision, recall float64
}

// attack runs the linkage attack on targets sampled visitor-days: known
// points are two of the target's events (their page and minute); the
// attacker claims every event of the day whose tuple one of the events at
// both points carries (at either point, when no tuple is at both), within
// window of a known point when window > 0. The day is recovered when the
// claim holds every one of the target's events (within the window) and at
// least as many of its as of others' (precision 0.5).
func attack(evs []event, targets int, window time.Duration) attackResult {
	byDay := map[string][]int{}
	byPoint := map[string][]int{}
	for i, e := range evs {
		if !e.human {
			continue
		}
		byDay[e.visitor+"|"+e.day] = append(byDay[e.visitor+"|"+e.day], i)
		byPoint[e.path+"|"+e.minute] = append(byPoint[e.path+"|"+e.minute], i)
	}
	var days []string
	for d, ix := range byDay {
		if len(ix) >= 3 {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(days), func(i, j int) { days[i], days[j] = days[j], days[i] })
	days = days[:min(targets, len(days))]
	var res attackResult
	for _, d := range days {
		mine := byDay[d]
		i1 := mine[rng.IntN(len(mine))]
		i2 := i1
		for i2 == i1 {
			i2 = mine[rng.IntN(len(mine))]
		}
		k1, k2 := evs[i1], evs[i2]
		t1 := map[string]bool{}
		for _, c := range byPoint[k1.path+"|"+k1.minute] {
			t1[evs[c].tuple] = true
		}
		tuples := map[string]bool{}
		for _, c := range byPoint[k2.path+"|"+k2.minute] {
			if t1[evs[c].tuple] {
				tuples[evs[c].tuple] = true
			}
		}
		if len(tuples) == 0 {
			for t := range t1 {
				tuples[t] = true
			}
			for _, c := range byPoint[k2.path+"|"+k2.minute] {
				tuples[evs[c].tuple] = true
			}
		}
		near := func(e event) bool {
			if window == 0 {
				return true
			}
			return e.t.Sub(k1.t).Abs() <= window || e.t.Sub(k2.t).Abs() <= window
		}
		claimed, hit := 0, 0
		for _, e := range evs {
			if e.human && e.day == k1.day && tuples[e.tuple] && near(e) {
				claimed++
				if e.visitor+"|"+e.day == d {
					hit++
				}
			}
		}
		want := 0
		for _, i := range mine {
			if near(evs[i]) {
				want++
			}
		}
		res.n++
		if claimed > 0 {
			res.precision += float64(hit) / float64(claimed)
		}
		res.recall += float64(hit) / float64(want)
		if hit == want && 2*hit >= claimed {
			res.recovered++
		}
	}
	if res.n > 0 {
		n := float64(res.n)
		res.recovered, res.precision, res.recall = res.recovered/n, res.precision/n, res.recall/n
	}
	return res
}
