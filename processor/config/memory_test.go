package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "512": 512, "4KiB": 4 << 10, "256MiB": 256 << 20,
		"256 mb": 256 << 20, "2GiB": 2 << 30, "1G": 1 << 30, "100B": 100} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-5MiB", "12 parsecs", "1.5GiB", "99999999999GiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	for in, want := range map[string]int64{"256MiB": 256 << 20, "off": 0, "1GiB": 1 << 30} {
		got, why, err := Config{Memory: in}.memoryLimit()
		if err != nil || got != want || why == "" {
			t.Errorf("memory_limit %q: %d (%q), %v; want %d", in, got, why, err, want)
		}
	}
	for _, in := range []string{"16MiB", "lots"} {
		if _, _, err := (Config{Memory: in}).memoryLimit(); err == nil || !strings.Contains(err.Error(), "memory_limit") {
			t.Errorf("memory_limit %q: %v, want an error naming the key", in, err)
		}
	}
	c := Default()
	c.Memory = "1MiB"
	if _, err := c.Resolve(); err == nil {
		t.Error("Resolve accepted memory_limit 1MiB")
	}
	// Unset: the container's limit decides, or there is none.
	got, _, _ := Config{}.memoryLimit()
	if cg := cgroupMemoryLimit(); got != cg/10*9 {
		t.Errorf("default limit %d, container's %d", got, cg)
	}
	t.Setenv("GOMEMLIMIT", "300MiB")
	if got, why, _ := (Config{Memory: "256MiB"}).memoryLimit(); got != 0 || !strings.Contains(why, "GOMEMLIMIT") {
		t.Errorf("with GOMEMLIMIT set: %d %q; the environment should win", got, why)
	}
}

func TestCgroupLimit(t *testing.T) {
	root := t.TempDir()
	put := func(rel, v string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("system.slice/memory.max", "1073741824")
	put("system.slice/logveil.service/memory.max", "402653184")
	put("system.slice/nginx.service/memory.max", "max")
	put("memory/docker/abc/memory.limit_in_bytes", "268435456")
	put("memory/memory.limit_in_bytes", "9223372036854771712")
	for _, c := range []struct {
		cgroup string
		want   int64
	}{
		{"0::/system.slice/logveil.service\n", 384 << 20},
		{"0::/system.slice/nginx.service\n", 1 << 30}, // the slice's
		{"0::/\n", 0},
		{"4:memory:/docker/abc\n3:cpuset:/\n0::/\n", 256 << 20},
		{"4:memory:/\n", 0},
		{"", 0},
	} {
		if got := cgroupLimitIn([]byte(c.cgroup), root); got != c.want {
			t.Errorf("%q: limit %d, want %d", c.cgroup, got, c.want)
		}
	}
}

// TestNoiseKeyRequired: a merge stage under differential privacy needs the
// shared noise key, readable and long enough; other stages, and batch mode
// (no stream checks), do not.
func TestNoiseKeyRequired(t *testing.T) {
	cfg := Default()
	cfg.Stats.Privacy = "differential"
	stream := func() error {
		s, err := cfg.Resolve()
		if err == nil {
			err = s.CheckStream()
		}
		return err
	}
	if _, err := cfg.Resolve(); err != nil {
		t.Errorf("batch mode needs no key: %v", err)
	}
	if err := stream(); err == nil || !strings.Contains(err.Error(), "noise_key_file") {
		t.Errorf("no noise key: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("0123456789"), 0o600)
	cfg.Stats.NoiseKeyFile = short
	if err := stream(); err == nil || !strings.Contains(err.Error(), "32 or more") {
		t.Errorf("a 10-byte key: %v", err)
	}
	good := filepath.Join(t.TempDir(), "noise.key")
	os.WriteFile(good, []byte(strings.Repeat("ab", 32)+"\n"), 0o600) // hex
	cfg.Stats.NoiseKeyFile = good
	if err := stream(); err != nil {
		t.Errorf("a hex key: %v", err)
	}
	cfg.Stats.NoiseKeyFile, cfg.Stages = "", []string{StageAnonymize}
	if err := stream(); err != nil {
		t.Errorf("anonymize only, no key: %v", err)
	}
}
