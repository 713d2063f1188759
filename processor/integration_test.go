package processor_test

// Integration tests against a real Kafka broker. They run when
// LOGVEIL_TEST_BROKERS names one (CI starts it with deploy/kafka-local.sh),
// and read and write with kcat, a client logveil did not write.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"index/suffixarray"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/logveil/logveil/internal/loggen"
	"github.com/logveil/logveil/internal/piicorpus"
)

var binary string // the logveil binary, built once

func TestMain(m *testing.M) {
	code := func() int {
		if os.Getenv("LOGVEIL_TEST_BROKERS") == "" {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "logveil-it")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "logveil")
		out, err := exec.Command("go", "build", "-o", binary, "../cmd/logveil").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "cannot build logveil: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func brokers(t *testing.T) string {
	t.Helper()
	b := os.Getenv("LOGVEIL_TEST_BROKERS")
	if b == "" {
		t.Skip("LOGVEIL_TEST_BROKERS is not set: start a broker with deploy/kafka-local.sh start and set it to 127.0.0.1:9092")
	}
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat): the integration tests read and write with it")
	}
	return b
}

// scenario is one test's topics and group.
type scenario struct {
	t       *testing.T
	brokers string
	raw     string
	prefix  string
	group   string
	// runBrokers, when set, is the bootstrap address logveil is given
	// instead of brokers (a secured listener).
	runBrokers string
	// listen is the operations endpoint's address; empty: none.
	listen string
}

func newScenario(t *testing.T, partitions int) *scenario {
	b := brokers(t)
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := &scenario{t: t, brokers: b, raw: "raw-" + id, prefix: "lv-" + id, group: "g-" + id}
	c := &kafka.Client{Addr: kafka.TCP(b), Timeout: 20 * time.Second}
	// A broker that has just started may not take admin requests yet.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
			{Topic: s.raw, NumPartitions: partitions, ReplicationFactor: 1}}})
		if err == nil {
			err = resp.Errors[s.raw]
		}
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("create %s: %v", s.raw, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// produce writes lines to the raw topic with kcat.
func (s *scenario) produce(lines []byte) {
	s.t.Helper()
	cmd := exec.Command("kcat", "-P", "-b", s.brokers, "-t", s.raw, "-X", "topic.partitioner=random")
	cmd.Stdin = bytes.NewReader(lines)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

type record struct {
	partition int
	offset    int64
	key       string
	value     string
}

// read consumes a whole topic with kcat.
func (s *scenario) read(topic string) []record {
	s.t.Helper()
	recs, err := s.tryRead(topic)
	if err != nil {
		s.t.Fatalf("kcat -C %s: %v", topic, err)
	}
	return recs
}

func (s *scenario) tryRead(topic string) ([]record, error) {
	cmd := exec.Command("kcat", "-C", "-b", s.brokers, "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%p\t%o\t%k\t%s\x1e") // values may hold newlines (visits): records end with RS
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	var recs []record
	for _, rec := range strings.Split(strings.TrimSuffix(string(out), "\x1e"), "\x1e") {
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\t", 4)
		if len(f) != 4 {
			s.t.Fatalf("kcat record %q", rec)
		}
		p, _ := strconv.Atoi(f[0])
		o, _ := strconv.ParseInt(f[1], 10, 64)
		recs = append(recs, record{p, o, f[2], f[3]})
	}
	return recs, nil
}

// rawIDs lists the event id of every record in the raw topic.
func (s *scenario) rawIDs() map[string]bool {
	ids := map[string]bool{}
	for _, r := range s.read(s.raw) {
		ids[fmt.Sprintf("%s-%d-%d", s.raw, r.partition, r.offset)] = true
	}
	return ids
}

// start runs `logveil run` as a separate process.
func (s *scenario) start(extraEnv ...string) *exec.Cmd {
	s.t.Helper()
	b := s.brokers
	if s.runBrokers != "" {
		b = s.runBrokers
	}
	listen := s.listen
	if listen == "" {
		listen = "-"
	}
	cmd := exec.Command(binary, "run", "--brokers", b, "--input-topics", s.raw,
		"--topic-prefix", s.prefix, "--group-id", s.group, "--listen", listen)
	cmd.Env = append(os.Environ(), "LOGVEIL_KAFKA_PARTITIONS=3", "LOGVEIL_KAFKA_SESSION_TIMEOUT=6s",
		"LOGVEIL_KAFKA_COMMIT_INTERVAL=200ms")
	cmd.Env = append(cmd.Env, extraEnv...)
	logf, err := os.CreateTemp("", "logveil-run-*.log")
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if s.t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			s.t.Logf("logveil log (%s):\n%s", logf.Name(), tail(b, 4000))
		}
		os.Remove(logf.Name())
	})
	return cmd
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// outputIDs reads events and rejected and returns the ids seen (with how
// many times) and every output value.
func (s *scenario) outputIDs() (ids map[string]int, values []string, err error) {
	ids = map[string]int{}
	for _, topic := range []string{s.prefix + ".events", s.prefix + ".rejected"} {
		recs, err := s.tryRead(topic)
		if err != nil {
			return nil, nil, err // not created yet, or the broker is restarting
		}
		for _, r := range recs {
			var m struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(r.value), &m); err != nil || m.ID == "" {
				s.t.Fatalf("%s: not an event with an id: %q", topic, r.value)
			}
			if r.key != m.ID {
				s.t.Fatalf("%s: key %q != id %q", topic, r.key, m.ID)
			}
			ids[m.ID]++
			values = append(values, r.value)
		}
	}
	return ids, values, nil
}

// waitComplete polls until every raw id is in the output, or fails. It
// polls the output topics' keys (the event ids), which is cheap, and reads
// the whole records once they are all there.
func (s *scenario) waitComplete(want map[string]bool, timeout time.Duration) (map[string]int, []string) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing, err := s.missingKeys(want)
		if missing == 0 && err == nil {
			ids, values, err := s.outputIDs()
			if err != nil {
				s.t.Fatalf("reading the output: %v", err)
			}
			for id := range want {
				if ids[id] == 0 {
					s.t.Fatalf("id %s is a key of the output but not an event's id", id)
				}
			}
			return ids, values
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d of %d input records never reached the output (last read error: %v)", missing, len(want), err)
		}
		time.Sleep(time.Second)
	}
}

// missingKeys counts the ids of want that are no key of the output topics.
func (s *scenario) missingKeys(want map[string]bool) (int, error) {
	have := map[string]bool{}
	for _, topic := range []string{s.prefix + ".events", s.prefix + ".rejected"} {
		out, err := exec.Command("kcat", "-C", "-b", s.brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k\n").Output()
		if err != nil {
			return len(want), err
		}
		for _, k := range strings.Split(string(out), "\n") {
			have[k] = true
		}
	}
	missing := 0
	for id := range want {
		if !have[id] {
			missing++
		}
	}
	return missing, nil
}

var ipv4Token = regexp.MustCompile(`\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\b`)

// checkNoRawAddress fails if any output holds a client address of the input
// or any IPv4 address with host bits below the /24.
func checkNoRawAddress(t *testing.T, input []byte, outputs []string) {
	t.Helper()
	clients := map[string]bool{}
	for _, l := range bytes.Split(input, []byte("\n")) {
		if i := bytes.IndexByte(l, ' '); i > 0 {
			if a, err := netip.ParseAddr(string(l[:i])); err == nil {
				clients[a.String()] = true
			}
		}
	}
	for _, v := range outputs {
		for _, m := range ipv4Token.FindAllStringSubmatch(v, -1) {
			if a, err := netip.ParseAddr(m[1]); err == nil && a.As4()[3] != 0 {
				t.Fatalf("address %s with host bits in output: %s", a, v)
			}
		}
	}
	// IPv6 clients: one suffix array over all the output, a lookup each.
	all := suffixarray.New([]byte(strings.Join(outputs, "\n")))
	for c := range clients {
		if strings.Contains(c, ":") && len(all.Lookup([]byte(c), 1)) > 0 {
			t.Fatalf("client address %s in output", c)
		}
	}
}

func genLines(seed uint64, n int, malformed float64) []byte {
	var b bytes.Buffer
	start := time.Now().Add(-30 * time.Minute).Unix()
	// Flat: the lines span 25 minutes, ending before now, at any hour.
	loggen.New(loggen.Options{Seed: seed, Malformed: malformed, Start: start, Rate: float64(n) / 1500, Flat: true}).WriteN(&b, n)
	// kcat -P skips empty lines; keep the count exact.
	return bytes.ReplaceAll(b.Bytes(), []byte("\n\n"), []byte("\n"))
}

func TestEndToEndWithKcat(t *testing.T) {
	s := newScenario(t, 3)
	lines := genLines(1, 3000, 0.02)
	planted := []byte(`203.0.113.77 - bob [27/Nov/2026:10:00:00 +0000] "GET /u/bob@example.com?email=bob%40example.com&utm_source=x HTTP/1.1" 200 1 "https://10.1.2.3/admin?t=9f86d081884c7d659a2feaa0c55ad015" "curl/8"` + "\n" +
		`malformed line from 198.51.100.23 with alice@example.org and [2001:db8::99]` + "\n")
	lines = append(lines, planted...)
	// Identifiers of every category in every field and format, a fifth of
	// the lines unreadable (internal/piicorpus).
	gen := piicorpus.New(31)
	var plants []piicorpus.Plant
	for i := 0; i < 500; i++ {
		l := gen.Line()
		if i%5 == 4 {
			l = gen.BrokenLine()
		}
		lines = append(lines, l.Text+"\n"...)
		plants = append(plants, l.Plants...)
	}
	s.produce(lines)
	want := s.rawIDs()
	s.start()
	ids, values := s.waitComplete(want, 90*time.Second)
	for id, n := range ids {
		if !want[id] {
			t.Errorf("output id %s matches no input record", id)
		}
		if n > 1 {
			t.Errorf("id %s written %d times in an uninterrupted run", id, n)
		}
	}
	checkNoRawAddress(t, lines, values)
	all := strings.Join(values, "\n")
	for _, secret := range []string{"bob@example.com", "bob%40example.com", "alice@example.org", "203.0.113.77", "198.51.100.23", "2001:db8::99", "10.1.2.3", "9f86d081884c7d659a2feaa0c55ad015"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q reached an output topic", secret)
		}
	}
	lowAll := strings.ToLower(all)
	for _, p := range plants {
		if p.Category == piicorpus.Postcode && len(p.Value) == 5 {
			continue // five digits can equal a response size by chance
		}
		if strings.Contains(lowAll, strings.ToLower(p.Value)) {
			t.Errorf("%s %q planted in %s reached an output topic", p.Category, p.Value, p.Field)
		}
	}
	rejected := s.read(s.prefix + ".rejected")
	if len(rejected) < 120 {
		t.Errorf("%d rejected records for 2%% malformed of 3000 lines and 100 broken ones", len(rejected))
	}
	if !strings.Contains(strings.Join(values, ""), `"line":"{w} {w} {w} {ip} {w} {email} {w} {ip}"`) {
		t.Error("the planted malformed line is not in the rejected topic as its shape")
	}
	// logveil audit over the output topics finds nothing; over the raw
	// topic it finds what was planted.
	for _, topic := range []string{s.prefix + ".events", s.prefix + ".rejected"} {
		out, err := exec.Command(binary, "audit", "--brokers", s.brokers, "--topic", topic, "--sample", "0").CombinedOutput()
		if err != nil {
			t.Errorf("logveil audit --topic %s: %v\n%s", topic, err, out)
		}
		if want := fmt.Sprintf("logveil audit: %d records (", len(s.read(topic))); !strings.HasPrefix(string(out), want) {
			t.Errorf("logveil audit --topic %s: %q, want it to start %q (every record read, counted as records)", topic, out, want)
		}
	}
	out, err := exec.Command(binary, "audit", "--brokers", s.brokers, "--topic", s.raw).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "  phone ") {
		t.Errorf("logveil audit of the raw topic: %v\n%s", err, out)
	}
	// Visits carry the statistics' fields of many hits per message (or a raw
	// partition's watermark, or that it is idle); salts hold one day.
	visits := s.read(s.prefix + ".visits")
	hits := 0
	var visitValues []string
	for _, v := range visits {
		switch {
		case strings.HasPrefix(v.key, "wm|"+s.raw+"/") && (strings.HasPrefix(v.value, "w1\t") || strings.HasPrefix(v.value, "i1\t")):
		case strings.HasPrefix(v.key, "b|"+s.raw+"/"):
			// Many hits per message, one per line, each with its visitor id
			// (none for a line whose day's salt is gone: counted as a view).
			for _, h := range strings.Split(strings.TrimSuffix(v.value, "\n"), "\n") {
				if f := strings.Split(h, "\t"); len(f) != 22 || f[0] != "h4" || len(f[21]) != 1 && f[21] != "10" || len(f[1]) != 16 && len(f[1]) != 0 || !strings.HasPrefix(f[2], s.raw+"/") {
					t.Fatalf("visits hit %q", h)
				}
				hits++
			}
		default:
			t.Fatalf("visits record %q: %q", v.key, v.value)
		}
		visitValues = append(visitValues, v.value)
	}
	if hits < 2900 {
		t.Fatalf("%d hits in the visits topic for 3000 lines", hits)
	}
	checkNoRawAddress(t, lines, visitValues)
	for _, secret := range []string{"bob@example.com", "bob%40example.com", "203.0.113.77", "10.1.2.3", "9f86d081884c7d659a2feaa0c55ad015"} {
		if strings.Contains(strings.Join(visitValues, "\n"), secret) {
			t.Errorf("%q reached the visits topic", secret)
		}
	}
	for _, v := range s.read(s.prefix + ".events") {
		if strings.Contains(v.value, `"visitor"`) {
			t.Fatalf("pseudonym in events without pseudonym_in_events: %s", v.value)
		}
	}
	if salts := s.read(s.prefix + ".salts"); len(salts) < 1 {
		t.Errorf("salts topic empty")
	}
}

func TestNoLossUnderKill9(t *testing.T) {
	s := newScenario(t, 3)
	lines := genLines(2, 150000, 0.01)
	s.produce(lines)
	want := s.rawIDs()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	cmd := s.start()
	for i := 0; i < 4; i++ {
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cmd = s.start()
	}
	ids, values := s.waitComplete(want, 3*time.Minute)
	dups := 0
	for id, n := range ids {
		if !want[id] {
			t.Errorf("output id %s matches no input record", id)
		}
		dups += n - 1
	}
	t.Logf("%d input records, %d duplicates after 4 kills (same ids, dropped by consumers)", len(want), dups)
	checkNoRawAddress(t, lines, values)
}

func TestScaleOut(t *testing.T) {
	s := newScenario(t, 6)
	lines := genLines(3, 120000, 0.01)
	s.produce(lines)
	want := s.rawIDs()
	var cmds []*exec.Cmd
	for range 3 {
		cmds = append(cmds, s.start())
	}
	time.Sleep(4 * time.Second)
	cmds[0].Process.Signal(syscall.SIGTERM) // one instance stops midway, gracefully
	if err := cmds[0].Wait(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	ids, _ := s.waitComplete(want, 3*time.Minute)
	for id := range ids {
		if !want[id] {
			t.Errorf("output id %s matches no input record", id)
		}
	}
	// Per-partition order: event offsets of one source partition increase
	// along its output partition.
	last := map[string]int64{}
	for _, r := range s.read(s.prefix + ".events") {
		var m struct{ ID string }
		json.Unmarshal([]byte(r.value), &m)
		i := strings.LastIndexByte(m.ID, '-')
		src := m.ID[:i]
		off, _ := strconv.ParseInt(m.ID[i+1:], 10, 64)
		if prev, ok := last[src]; ok && off < prev {
			// A replay after the rebalance may repeat earlier offsets; they
			// must be a contiguous re-run, never a reordering of new data.
			if ids[m.ID] < 2 {
				t.Fatalf("%s out of order after %d", m.ID, prev)
			}
		}
		last[src] = off
	}
}

func TestSurvivesBrokerRestart(t *testing.T) {
	ctl := os.Getenv("LOGVEIL_TEST_KAFKA_CTL")
	if ctl == "" {
		t.Skip("LOGVEIL_TEST_KAFKA_CTL is not set (path to deploy/kafka-local.sh); CI sets it")
	}
	s := newScenario(t, 3)
	s.listen = "127.0.0.1:19466"
	first := genLines(4, 20000, 0)
	s.produce(first)
	cmd := s.start()
	s.waitComplete(s.rawIDs(), 60*time.Second)
	waitStatus(t, "http://127.0.0.1:19466/readyz", 200, 30*time.Second)
	if out, err := exec.Command(ctl, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop broker: %v %s", err, out)
	}
	// The processor retries against a dead broker: alive, not ready.
	waitStatus(t, "http://127.0.0.1:19466/readyz", 503, 60*time.Second)
	waitStatus(t, "http://127.0.0.1:19466/healthz", 200, time.Second)
	if out, err := exec.Command(ctl, "start").CombinedOutput(); err != nil {
		t.Fatalf("start broker: %v %s", err, out)
	}
	second := genLines(5, 20000, 0)
	s.produce(second)
	s.waitComplete(s.rawIDs(), 2*time.Minute) // the same process, never restarted
	waitStatus(t, "http://127.0.0.1:19466/readyz", 200, 60*time.Second)
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the processor is gone after the broker restart: %v", err)
	}
}

// waitStatus polls url until it answers with status, or fails.
func waitStatus(t *testing.T, url string, status int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == status {
				return
			}
			last = r.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %d within %v (last: %s)", url, status, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestUncompressedBatches: without compression a producer batch is as large
// on the wire as in memory; batches stay under the broker's 1 MiB limit
// (kafka.batch_bytes), so nothing is refused and retried for ever.
func TestUncompressedBatches(t *testing.T) {
	s := newScenario(t, 3)
	s.produce(genLines(8, 60000, 0))
	s.start("LOGVEIL_KAFKA_COMPRESSION=none")
	s.waitComplete(s.rawIDs(), 90*time.Second)
}

// TestReadyWhileIdle: a processor with nothing to consume is ready.
func TestReadyWhileIdle(t *testing.T) {
	s := newScenario(t, 1)
	cmd := exec.Command(binary, "run", "--brokers", s.brokers, "--input-topics", s.raw,
		"--topic-prefix", s.prefix, "--group-id", s.group, "--listen", "127.0.0.1:19465")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get("http://127.0.0.1:19465/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 30s with an empty input topic (last: %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r, err := http.Get("http://127.0.0.1:19465/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	for _, want := range []string{"logveil_ready 1", `logveil_consumer_lag{partition="0",topic="` + s.raw + `"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestMissingInputTopic: a clear error, not a hang.
func TestMissingInputTopic(t *testing.T) {
	b := brokers(t)
	out, err := exec.Command(binary, "run", "--brokers", b, "--input-topics", "no-such-topic-"+strconv.FormatInt(time.Now().UnixNano(), 36),
		"--listen", "-").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not exist") {
		t.Errorf("err %v, output:\n%s", err, out)
	}
}
