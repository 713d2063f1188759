package config

import (
	"fmt"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory: the Go runtime's soft limit (GOMEMLIMIT) makes the collector work
// harder as the heap nears it, instead of letting it double; the stages'
// in-flight bound (kafka.inflight_bytes) keeps what is live small whatever
// the backlog. Together they keep a sidecar's RSS flat.

// parseBytes reads a size: a whole number of bytes, or with a B, KiB, MiB,
// GiB (or KB, MB, GB: the same powers of 1024) suffix.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 256MiB", s)
	}
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
		"mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q is not a size such as 256MiB (unit %q)", s, unit)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup: the
// smallest memory.max on the way from its cgroup (as /proc/self/cgroup
// names it: a systemd service's MemoryMax, a container's limit) up to the
// root, or cgroup v1's memory controller the same way; 0 when there is none.
func cgroupMemoryLimit() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	return cgroupLimitIn(b, "/sys/fs/cgroup")
}

// cgroupLimitIn is cgroupMemoryLimit for the cgroup list procCgroup and
// the cgroup file system mounted at fsRoot.
func cgroupLimitIn(procCgroup []byte, fsRoot string) int64 {
	read := func(f string) int64 {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0 // "max", or v1's huge number for none
		}
		return n
	}
	var limit int64
	for _, line := range strings.Split(string(procCgroup), "\n") {
		// v2: "0::/path"; v1: "4:memory:/path".
		root, file := fsRoot, "memory.max"
		dir, ok := strings.CutPrefix(line, "0::")
		if !ok {
			_, rest, _ := strings.Cut(line, ":")
			if dir, ok = strings.CutPrefix(rest, "memory:"); !ok {
				continue
			}
			root, file = path.Join(fsRoot, "memory"), "memory.limit_in_bytes"
		}
		for dir = path.Clean("/" + dir); ; dir = path.Dir(dir) {
			if n := read(path.Join(root, dir, file)); n > 0 && (limit == 0 || n < limit) {
				limit = n
			}
			if dir == "/" {
				break
			}
		}
	}
	return limit
}

// memoryLimit is the soft limit memory_limit asks for, in bytes: the
// setting, or 90 % of the container's limit when it is unset, or none (0);
// "off" turns it off. The GOMEMLIMIT environment variable, when set, wins
// over both (the Go runtime reads it itself).
func (c Config) memoryLimit() (int64, string, error) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return 0, "GOMEMLIMIT=" + v, nil
	}
	switch strings.TrimSpace(c.Memory) {
	case "off", "0":
		return 0, "off", nil
	case "":
		if n := cgroupMemoryLimit(); n > 0 {
			return n / 10 * 9, "90 % of the container's limit", nil
		}
		return 0, "none (no container limit)", nil
	}
	n, err := parseBytes(c.Memory)
	if err != nil {
		return 0, "", fmt.Errorf("memory_limit: %w", err)
	}
	if n < 32<<20 {
		return 0, "", fmt.Errorf("memory_limit: %s is less than 32MiB", c.Memory)
	}
	return n, "memory_limit", nil
}

// ApplyMemoryLimit sets the Go runtime's soft memory limit (when there is
// one to set) and returns it (0: none) and why.
func (s Settings) ApplyMemoryLimit() (int64, string) {
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	return s.MemoryLimit, s.MemoryFrom
}
