package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runAnonip(t *testing.T, in string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmdAnonip(args, strings.NewReader(in), &out, &errb)
	return out.String(), errb.String(), code
}

// TestAnonipFlags: anonip's command line, as argparse reads it.
func TestAnonipFlags(t *testing.T) {
	in := "192.168.100.200 - - x\n10.1.2.3 - - y\n"
	want := "192.168.0.0 - - x\n10.1.0.0 - - y\n"
	for _, args := range [][]string{{"-4", "16"}, {"-416"}, {"--ipv4mask=16"}, {"--ipv4mask", "16"}, {"--ipv4", "16"}} {
		if out, errs, code := runAnonip(t, in, args...); out != want || code != 0 {
			t.Errorf("%q: %q %s (exit %d)", args, out, errs, code)
		}
	}
	if out, _, _ := runAnonip(t, in); out != "192.168.96.0 - - x\n10.1.0.0 - - y\n" {
		t.Errorf("anonip's default masks (12, 84): %q", out)
	}
	if out, _, _ := runAnonip(t, in, "-pd"); out != in {
		t.Errorf("-pd (skip private, debug): %q", out)
	}
	if out, _, _ := runAnonip(t, "a 1.2.3.4 b 5.6.7.8\n", "-c", "2", "4", "-4", "8"); out != "a 1.2.3.0 b 5.6.7.0\n" {
		t.Errorf("-c 2 4: %q", out)
	}
	if out, _, _ := runAnonip(t, "1.2.3.4;x\n-;y\n", "-l", ";", "-r", "0.0.0.0"); out != "1.2.0.0;x\n0.0.0.0;y\n" {
		t.Errorf("-l ; -r: %q", out)
	}
	if out, _, code := runAnonip(t, "", "-v"); out != "1.1.0\n" || code != 0 {
		t.Errorf("-v: %q %d", out, code)
	}
	if out, _, code := runAnonip(t, "", "-h"); !strings.Contains(out, "--skip-private") || code != 0 {
		t.Errorf("-h: %q %d", out, code)
	}
	for _, args := range [][]string{{"-4", "0"}, {"-4", "33"}, {"-6", "129"}, {"-i", "0"}, {"-c", "0"}, {"--regex", "(", "-c", "1"},
		{"--regex", "x", "-c", "1"}, {"--regex", "x", "-l", ";"}, {"--foo"}, {"extra"}, {"-c"}, {"--skip-private=yes"}, {"--i", "3"}} {
		if _, errs, code := runAnonip(t, in, args...); code != exitConfig || !strings.Contains(errs, "error:") {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
}

// TestAnonipFiles: --output appends, as anonip does (an Apache piped
// logger that restarts keeps the file); --input reads a file.
func TestAnonipFiles(t *testing.T) {
	dir := t.TempDir()
	out, in := filepath.Join(dir, "access.log"), filepath.Join(dir, "in.log")
	os.WriteFile(out, []byte("earlier line\n"), 0o644)
	os.WriteFile(in, []byte("203.0.113.9 b\n"), 0o644)
	if _, errs, code := runAnonip(t, "198.51.100.7 a\n", "-o", out); code != 0 {
		t.Fatal(errs)
	}
	if _, errs, code := runAnonip(t, "", "--input", in, "--output", out); code != 0 {
		t.Fatal(errs)
	}
	if b, _ := os.ReadFile(out); string(b) != "earlier line\n198.51.96.0 a\n203.0.112.0 b\n" {
		t.Errorf("output file: %q", b)
	}
	if _, errs, code := runAnonip(t, "", "--input", filepath.Join(dir, "missing")); code != exitIO || !strings.Contains(errs, "--input") {
		t.Errorf("missing input: exit %d %q", code, errs)
	}
}

// TestAnonipAsPipedLogger: installed as "anonip" (a link to logveil), the
// binary is anonip; each line reaches the file while the logger runs, and
// SIGTERM (Apache's reload) ends it with every line written.
func TestAnonipAsPipedLogger(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "anonip")
	if err := os.Symlink(testBinary(t), link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "access.log")
	cmd := exec.Command(link, "--ipv4mask", "8", "--output", out)
	w, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1\n"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(out); strings.HasPrefix(string(b), "203.0.113.0 - - ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the line did not reach the file while the logger runs")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Write([]byte("198.51.100.7 second\n"))
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	if b, _ := os.ReadFile(out); !strings.HasSuffix(string(b), "198.51.100.0 second\n") {
		t.Errorf("file after SIGTERM: %q", b)
	}
}
