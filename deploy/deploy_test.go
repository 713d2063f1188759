// Package deploy holds no code: its tests check the deployment files
// against the code (config keys, metric names, build flags) and, where the
// tool is installed, with the tool itself.
package deploy

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/logveil/logveil/processor"
	"github.com/logveil/logveil/processor/config"
)

// TestDockerfileBuild runs the Dockerfile's build command as written and
// checks the result: static, version stamped.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary as the Dockerfile does (about 10 s); run without -short")
	}
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*) -o /out/logveil (\S+)$`).FindSubmatch(df)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build ... -o /out/logveil ./cmd/logveil` in Dockerfile")
	}
	for _, want := range []string{"USER nonroot", "FROM gcr.io/distroless/static", "AS build"} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	bin := filepath.Join(t.TempDir(), "logveil")
	cmdline := strings.ReplaceAll(string(m[1]), "${VERSION}", "test-stamp") + " -o " + bin + " " + string(m[2])
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has a dynamic loader: not static")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "logveil test-stamp" {
		t.Errorf("version: %q %v", out, err)
	}
}

func TestExampleConfigsValid(t *testing.T) {
	for _, p := range []string{"logveil.yaml", "kubernetes/logveil.yaml"} {
		c, err := config.Load(p, nil)
		if err == nil {
			_, err = c.Resolve()
		}
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestKustomizeBuild builds deploy/kubernetes with kustomize's library and
// checks what operators rely on.
func TestKustomizeBuild(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), "kubernetes")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	kinds := map[string]map[string]any{} // by kind, and by kind/name
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		if kinds[r.GetKind()] == nil {
			kinds[r.GetKind()] = m
		}
		kinds[r.GetKind()+"/"+r.GetName()] = m
		if ns := r.GetNamespace(); r.GetKind() != "Namespace" && ns != "logveil" {
			t.Errorf("%s/%s in namespace %q", r.GetKind(), r.GetName(), ns)
		}
	}
	for _, want := range []string{"Namespace", "Secret", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceMonitor"} {
		if kinds[want] == nil {
			t.Errorf("no %s", want)
		}
	}
	dep, _ := json.Marshal(kinds["Deployment/logveil"])
	var d struct {
		Spec struct {
			Replicas int
			Selector struct{ MatchLabels map[string]string }
			Template struct {
				Spec struct {
					Containers []struct {
						Image          string
						ReadinessProbe struct{ HTTPGet struct{ Path string } }
						LivenessProbe  struct{ HTTPGet struct{ Path string } }
						Resources      struct{ Requests, Limits map[string]string }
						EnvFrom        []struct{ SecretRef struct{ Name string } }
					}
				}
			}
		}
	}
	json.Unmarshal(dep, &d)
	c := d.Spec.Template.Spec.Containers[0]
	if d.Spec.Replicas < 2 || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
		c.Resources.Requests["cpu"] == "" || c.Resources.Limits["memory"] == "" || len(d.Spec.Selector.MatchLabels) == 0 ||
		len(c.EnvFrom) == 0 || !strings.HasPrefix(c.EnvFrom[0].SecretRef.Name, "logveil-kafka") || !strings.Contains(c.Image, "logveil") {
		t.Errorf("deployment: %s", dep)
	}
	// The processor's PDB, metrics Service and ServiceMonitor select its pods
	// and not the statistics page's, which has a Deployment and Service of
	// its own.
	processor := `{"app.kubernetes.io/component":"processor","app.kubernetes.io/name":"logveil"}`
	for _, sel := range []struct{ res, want string }{
		{"PodDisruptionBudget/logveil", `"selector":{"matchLabels":` + processor},
		{"Service/logveil-metrics", `"selector":` + processor},
		// A custom resource: kustomize adds no labels to its selector.
		{"ServiceMonitor/logveil", `"selector":{"matchLabels":{"app.kubernetes.io/component":"processor"}}`},
		{"Service/logveil-metrics", `"labels":{"app.kubernetes.io/component":"processor"`},
		{"Deployment/logveil", `"template":{"metadata":{"annotations":{"prometheus.io/port":"9464","prometheus.io/scrape":"true"},"labels":` + processor},
		{"Deployment/logveil-stats", `"--serve","0.0.0.0:8080"`},
		{"Deployment/logveil-stats", `"labels":{"app.kubernetes.io/component":"stats","app.kubernetes.io/name":"logveil"}`},
		{"Service/logveil-stats", `"selector":{"app.kubernetes.io/component":"stats","app.kubernetes.io/name":"logveil"}`},
	} {
		b, _ := json.Marshal(kinds[sel.res])
		if !strings.Contains(string(b), sel.want) {
			t.Errorf("%s lacks %s: %s", sel.res, sel.want, b)
		}
	}
	cm, _ := json.Marshal(kinds["ConfigMap"])
	if !strings.Contains(string(cm), "topic_prefix: logveil") {
		t.Errorf("config map lacks deploy/logveil.yaml: %s", cm)
	}
}

// TestComposeFile checks the structure docker compose relies on and that
// every file it mounts exists. (No Docker engine runs here; CI also runs
// `docker-compose config` where the client is installed.)
func TestComposeFile(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string
			Build       any
			Environment map[string]string
			Volumes     []string
			Healthcheck map[string]any
			Command     []string
			DependsOn   any `yaml:"depends_on"`
		}
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"kafka", "topics", "logveil", "loggen", "stats", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("no service %s", s)
		}
	}
	k := c.Services["kafka"]
	// Setting any KAFKA_* replaces the image's defaults: all of these are needed.
	for _, key := range []string{"KAFKA_NODE_ID", "KAFKA_PROCESS_ROLES", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LISTENERS",
		"KAFKA_ADVERTISED_LISTENERS", "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "KAFKA_CONTROLLER_LISTENER_NAMES",
		"KAFKA_INTER_BROKER_LISTENER_NAME", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR"} {
		if k.Environment[key] == "" {
			t.Errorf("kafka service lacks %s", key)
		}
	}
	if k.Healthcheck == nil {
		t.Error("kafka has no healthcheck")
	}
	if dep, _ := c.Services["logveil"].DependsOn.(map[string]any); fmt.Sprint(dep["topics"]) != "map[condition:service_completed_successfully]" {
		t.Error("logveil does not wait for the topic setup")
	}
	if !slices.Contains(c.Services["loggen"].Command, "--brokers") {
		t.Error("loggen does not produce to Kafka")
	}
	// deploy/logveil.yaml names a broker on this machine; inside compose the
	// broker is kafka:19092.
	for _, name := range []string{"logveil", "stats"} {
		if got := c.Services[name].Environment["LOGVEIL_KAFKA_BROKERS"]; got != "kafka:19092" {
			t.Errorf("service %s: LOGVEIL_KAFKA_BROKERS %q, want kafka:19092", name, got)
		}
	}
	if cmd := c.Services["stats"].Command; !slices.Contains(cmd, "--serve") || !slices.Contains(cmd, "/etc/logveil/logveil.yaml") {
		t.Errorf("stats service does not serve the page with logveil's config: %v", cmd)
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("service %s mounts missing %s", name, src)
				}
			}
		}
	}
	requireTool(t, "docker-compose", "-f", "../docker-compose.yml", "config", "-q")
}

// TestGrafanaDashboardMetrics: every metric a panel queries is one logveil exports.
func TestGrafanaDashboardMetrics(t *testing.T) {
	data, err := os.ReadFile("grafana/dashboards/logveil.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	have := processor.MetricNames()
	re := regexp.MustCompile(`\b(logveil_[a-z_]+|process_[a-z_]+)\b`)
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, name := range re.FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !slices.Contains(have, base) {
					t.Errorf("panel %q queries %s, which logveil does not export", p.Title, name)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d metric references in the dashboard", n)
	}
}

// TestShipperConfigs validates the example configs with the real tools
// where Debian has them (rsyslog with omkafka, nginx). CI installs them.
func TestShipperConfigs(t *testing.T) {
	abs, _ := filepath.Abs("shippers")
	requireTool(t, "rsyslogd", "-N1", "-f", filepath.Join(abs, "rsyslog-kafka.conf"))
	requireTool(t, "nginx", "-t", "-q", "-c", filepath.Join(abs, "nginx-syslog.conf"), "-e", "/dev/stderr")
}

// requireTool runs a validating tool. Without it the check is skipped,
// unless LOGVEIL_TEST_DEPLOY_TOOLS is set (CI installs the tools and sets it).
func requireTool(t *testing.T, tool string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("LOGVEIL_TEST_DEPLOY_TOOLS") != "" {
			t.Fatalf("%s is not installed", tool)
		}
		t.Logf("%s not installed: skipped (CI installs it)", tool)
		return
	}
	if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Errorf("%s %v: %v\n%s", tool, args, err, out)
	}
}

// TestSystemdUnit runs systemd-analyze verify on the unit (with ExecStart
// pointed at a binary that exists here) and fails on any complaint.
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	unit, err := os.ReadFile("systemd/logveil.service")
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := exec.LookPath("true")
	tmp := filepath.Join(t.TempDir(), "logveil.service")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/logveil", bin)), 0o644)
	out, err := exec.Command("systemd-analyze", "verify", tmp).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestApachePipedLogger runs the piped logger of shippers/apache-piped.conf
// as Apache would (sh -c with the log lines on stdin), with the binary, the
// country database and the log directory moved to a temporary directory:
// every line comes out anonymized in the file rotatelogs writes and the
// rejected one in the rejects file as its shape. (What a reload's SIGTERM
// does is tested in cmd/logveil: TestSignalKeepsEveryLine.)
func TestApachePipedLogger(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary behind rotatelogs (about 6 s); run without -short")
	}
	rotatelogs, err := exec.LookPath("rotatelogs")
	if err != nil {
		if os.Getenv("LOGVEIL_TEST_DEPLOY_TOOLS") != "" {
			t.Fatal("rotatelogs is not installed (apt-get install apache2-utils)")
		}
		t.Skip("rotatelogs is not installed (apt-get install apache2-utils); CI installs it")
	}
	conf, err := os.ReadFile("shippers/apache-piped.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CustomLog "\|(.*)" logveil_combined$`).FindSubmatch(conf)
	if m == nil {
		t.Fatal("no piped CustomLog in apache-piped.conf")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "logveil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/logveil").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	geo := filepath.Join(dir, "geo.mmdb")
	writeCountryDB(t, geo)
	pipeline := strings.NewReplacer("/usr/local/bin/logveil", bin, "/var/lib/logveil/geo-whois-asn-country.mmdb", geo,
		"/var/log/apache2", dir, "/usr/bin/rotatelogs", rotatelogs).Replace(string(m[1]))
	sh := exec.Command("sh", "-c", pipeline)
	stdin, _ := sh.StdinPipe()
	var stderr strings.Builder
	sh.Stderr = &stderr
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := range n {
		fmt.Fprintf(stdin, "203.0.113.%d - jdoe [28/Nov/2026:10:%02d:%02d +0000] \"GET /users/jdoe/orders/%d?email=a@b.c HTTP/1.1\" 200 512 \"-\" \"curl/8\"\n", 1+i%250, i/60%60, i%60, 100000+i)
	}
	fmt.Fprintln(stdin, "garbage from 198.51.100.7 jdoe@example.com")
	stdin.Close()
	if err := sh.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", pipeline, err, stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "access-anonymized.*.log"))
	if len(files) != 1 {
		t.Fatalf("rotatelogs wrote %v", files)
	}
	out, _ := os.ReadFile(files[0])
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n || !strings.HasPrefix(lines[0], `203.0.113.0 - - [28/Nov/2026:10:00:00 +0000] "GET /users/{name}/orders/{id} HTTP/1.1" 200 512`) {
		t.Fatalf("%d lines, first %q", len(lines), lines[0])
	}
	for _, secret := range []string{"jdoe", "a@b.c", "203.0.113.1 "} {
		if strings.Contains(string(out), secret) {
			t.Errorf("%q in the anonymized file", secret)
		}
	}
	rej, _ := os.ReadFile(filepath.Join(dir, "access-rejected.log"))
	if strings.TrimSpace(string(rej)) != "{w} {w} {ip} {email}" {
		t.Errorf("rejects file: %q", rej)
	}
}

// writeCountryDB writes a one-network country database of ip-location-db's
// schema.
func writeCountryDB(t *testing.T, path string) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "geo-whois-asn-country", RecordSize: 24, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("203.0.113.0/24")
	tree.Insert(n, mmdbtype.Map{"country_code": mmdbtype.String("NL")})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}
