package processor_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// k-anonymous events on a real broker, with three instances that each read
// one raw partition; and after kill -9.
//
//   - crowd: five visitors of 203.0.113.0/24 with one browser. First all
//     five on partition 0 (its instance opens their class) and two each on
//     partitions 1 and 2 (whose instances cannot), then only on 1 and 2:
//     their instances write the /24 because the shared census told them
//     the class is open (<prefix>.census, <prefix>.admitted);
//   - quad: four visitors of 192.0.2.0/24, on every partition, in every
//     wave and again in the replays after the kill;
//   - lonely: one visitor of 198.51.100.0/24, everywhere.
//
// Only the crowd may ever be written with its network, and once its class
// is open, it is (also by the instance started after the kill, which reads
// what was admitted before it writes). The same for the path each group
// reads beside the wave's (the path's tiers by population): the crowd's
// /reports/31337 is written as it is once admitted, the quad's and the
// lonely visitor's ids never.
func TestKAnonymousEventsShared(t *testing.T) {
	s := newScenario(t, 3)
	env := []string{"LOGVEIL_ANONYMIZE_EVENTS_K=5", "LOGVEIL_ANONYMIZE_HOLD=2s"}
	var cmds []*exec.Cmd
	for range 3 {
		cmds = append(cmds, s.start(env...))
	}
	const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	line := func(addr, path, ua string) string {
		ts := time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700")
		return fmt.Sprintf("%s - - [%s] \"GET %s HTTP/1.1\" 200 512 \"-\" %q\n", addr, ts, path, ua)
	}
	crowd := func(i int) string { return "203.0.113." + strconv.Itoa(10+i) }
	quad := func(i int) string { return "192.0.2." + strconv.Itoa(20+i) }
	wave := func(path string, crowdOn map[int][]int) {
		for p := range 3 {
			var b strings.Builder
			for _, i := range crowdOn[p] {
				b.WriteString(line(crowd(i), path, chrome))
				b.WriteString(line(crowd(i), "/reports/31337", chrome))
			}
			for i := range 4 {
				b.WriteString(line(quad(i), path, chrome))
				b.WriteString(line(quad(i), "/reports/4444", chrome))
			}
			b.WriteString(line("198.51.100.7", path, firefox))
			b.WriteString(line("198.51.100.7", "/reports/999999", firefox))
			s.produceTo(p, []byte(b.String()))
		}
		s.waitComplete(s.rawIDs(), 2*time.Minute)
	}

	wave("/about", map[int][]int{0: {0, 1, 2, 3, 4}, 1: {0, 1}, 2: {2, 3}})
	deadline := time.Now().Add(time.Minute)
	for len(s.read(s.prefix+".admitted")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the census admitted nothing")
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // every instance's admitted reader has it
	later := map[int][]int{1: {0, 1, 2}, 2: {3, 4}}
	wave("/contact", later)
	s.check(t, 5, "before the kill")

	cmds[0].Process.Signal(syscall.SIGKILL)
	cmds[0].Wait()
	s.start(env...)
	time.Sleep(3 * time.Second)
	wave("/contact", map[int][]int{0: {0, 1}, 1: {2, 3}, 2: {4}})
	wave("/contact", later)
	s.check(t, 15, "after the kill")
}

// check reads every event, with the raw line it came from: the crowd's
// events of the waves after the first carry its /24 and browser version;
// no event of the quad or the lonely visitor carries a network, nor one of
// the lonely visitor its browser, in any wave; want is how many crowd
// events the /contact waves had.
func (s *scenario) check(t *testing.T, want int, when string) {
	t.Helper()
	raw := map[string]string{}
	for _, r := range s.read(s.raw) {
		raw[fmt.Sprintf("%s-%d-%d", s.raw, r.partition, r.offset)] = r.value
	}
	crowdLater, crowdReports := 0, 0
	for _, r := range s.read(s.prefix + ".events") {
		var e struct {
			ID, Path, Network, Browser, Version string
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.value), &m); err != nil {
			t.Fatal(err)
		}
		e.ID, _ = m["id"].(string)
		e.Path, _ = m["path"].(string)
		e.Network, _ = m["client_network"].(string)
		e.Version, _ = m["browser_version"].(string)
		e.Browser, _ = m["browser"].(string)
		src := raw[e.ID]
		switch e.Path {
		case "/reports/4444", "/reports/999999":
			t.Errorf("%s: a path fewer than 5 visitors used was written: %s (from %q)", when, r.value, src)
		case "/reports/31337":
			crowdReports++
		}
		if strings.HasPrefix(e.Path, "/reports/") {
			continue
		}
		switch {
		case src == "":
			t.Fatalf("event %s has no raw record", e.ID)
		case strings.HasPrefix(src, "203.0.113."):
			if e.Path == "/contact" {
				crowdLater++
				if e.Network != "203.0.113.0/24" || e.Version == "" {
					t.Errorf("%s: an admitted crowd's event without its network: %s", when, r.value)
				}
			}
		case e.Network != "":
			// The quad's /24 and /16 have four visitors, the lonely one's one.
			t.Errorf("%s: a network fewer than 5 visitors share was written: %s (from %q)", when, r.value, src)
		case strings.HasPrefix(src, "198.51.100.") && (e.Version != "" || e.Browser != ""):
			// Its browser is its alone: only (country, device, site) has company.
			t.Errorf("%s: a browser one visitor has was written: %s", when, r.value)
		}
	}
	if crowdLater < want {
		t.Errorf("%s: %d crowd events of later waves, want at least %d", when, crowdLater, want)
	}
	// The crowd's path is admitted from the later waves on (the first wave's
	// partition 0 alone has all five).
	if crowdReports < want {
		t.Errorf("%s: %d crowd events of /reports/31337 written as read, want at least %d", when, crowdReports, want)
	}
}
