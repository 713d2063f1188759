package pipe

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/logveil/logveil/transforms"
)

func accessLines(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "81.2.%d.%d - - [27/Nov/2026:10:%02d:%02d +0100] \"GET /p%d HTTP/1.1\" 200 %d \"-\" \"-\"\n", i/250%250, i%250+1, i/60%60, i%60, i, i)
	}
	return b.String()
}

func gzipped(t *testing.T, members ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, m := range members { // one gzip member each, as cat a.gz b.gz makes
		zw := gzip.NewWriter(&out)
		zw.Write([]byte(m))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func zstded(t *testing.T, s string) []byte {
	t.Helper()
	zw, _ := zstd.NewWriter(nil)
	return zw.EncodeAll([]byte(s), nil)
}

// anonymizeFiles runs Run over the named files in dir and returns the
// output, the summary and the error.
func anonymizeFiles(t *testing.T, dir string, names ...string) (string, Summary, error) {
	t.Helper()
	a, err := transforms.NewAnonymizer(defaults.Anonymize)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range names {
		if names[i] != "-" {
			names[i] = filepath.Join(dir, names[i])
		}
	}
	in, err := OpenInputs(names, strings.NewReader(accessLines(900, 3)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	st, err := Run(a, in, &out, Options{Output: OutputCombined})
	return out.String(), st, err
}

// TestCompressedInputs: plain, multi-member gzip and zstd files, given in
// logrotate's names in any order, are read oldest first and give the same
// output as the plain lines in time order; a file without a final newline
// does not join its last line to the next file's first.
func TestCompressedInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldest, older, old, live := accessLines(0, 400), accessLines(400, 300), accessLines(700, 150), accessLines(850, 50)
	write("access.log.3.gz", gzipped(t, oldest[:len(oldest)/2], oldest[len(oldest)/2:])) // delaycompress + cat
	write("access.log.2.zst", zstded(t, older))
	write("access.log.1", []byte(strings.TrimSuffix(old, "\n"))) // no final newline
	write("access.log", []byte(live))
	write("plain.log", []byte(oldest+older+old+live))

	want, wantSt, err := anonymizeFiles(t, dir, "plain.log")
	if err != nil || wantSt.Out != 900 {
		t.Fatalf("plain: %d lines out, %v", wantSt.Out, err)
	}
	got, st, err := anonymizeFiles(t, dir, "access.log", "access.log.1", "access.log.2.zst", "access.log.3.gz")
	if err != nil {
		t.Fatal(err)
	}
	if st.In != 900 || st.RejectedTotal() != 0 || got != want {
		t.Errorf("rotated, compressed files: %d in, %d rejected; output equal to the plain file's: %v", st.In, st.RejectedTotal(), got == want)
	}
	// stdin ("-") among files, and a compressed stdin.
	got, st, err = anonymizeFiles(t, dir, "access.log", "-")
	if err != nil || st.Out != 53 {
		t.Errorf("a file and stdin: %d lines out, %v", st.Out, err)
	}
	a, _ := transforms.NewAnonymizer(defaults.Anonymize)
	var out bytes.Buffer
	in, _ := OpenInputs(nil, bytes.NewReader(gzipped(t, live)))
	if st, err := Run(a, in, &out, Options{}); err != nil || st.Out != 50 {
		t.Errorf("gzip on stdin: %d lines out, %v", st.Out, err)
	}
	// bzip2: Matomo log-analytics' tests/logs/common.log.bz2, and its line plain.
	bz, err := os.ReadFile("../../transforms/testdata/peers/common.log.bz2")
	if err != nil {
		t.Fatal(err)
	}
	write("matomo.log.1.bz2", bz)
	write("matomo.plain", []byte(`1.2.3.7 - theboss [19/Feb/2012:16:42:07 -0700] "POST / HTTP/1.0" 200 444`+"\n"))
	got, st, err = anonymizeFiles(t, dir, "matomo.log.1.bz2")
	plainBz, plainSt, perr := anonymizeFiles(t, dir, "matomo.plain")
	if err != nil || perr != nil || st.Out != 1 || st.RejectedTotal() != 0 || got != plainBz || plainSt.Out != 1 {
		t.Errorf("bzip2: %d lines out, %d rejected, %v; same as the plain file: %v", st.Out, st.RejectedTotal(), err, got == plainBz)
	}
	if _, err := OpenInputs([]string{filepath.Join(dir, "missing.log")}, nil); err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestTruncatedArchive: a gzip or zstd file cut short gives an error that
// names the file, after every complete line before the cut was written.
func TestTruncatedArchive(t *testing.T) {
	dir := t.TempDir()
	lines := accessLines(0, 10000)
	for name, data := range map[string][]byte{"cut.log.gz": gzipped(t, lines), "cut.log.zst": zstded(t, lines)} {
		cut := data[:len(data)*2/3]
		if err := os.WriteFile(filepath.Join(dir, name), cut, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st, err := anonymizeFiles(t, dir, name)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
			continue
		}
		// What a reader that stops at the first error gets is the
		// reference: every complete line of it is in the output.
		var r io.Reader
		if strings.HasSuffix(name, ".gz") {
			r, _ = gzip.NewReader(bytes.NewReader(cut))
		} else {
			zr, _ := zstd.NewReader(bytes.NewReader(cut))
			r = zr
		}
		ref, _ := io.ReadAll(r)
		complete := int64(bytes.Count(ref, []byte{'\n'}))
		if complete < 100 || st.Out < complete || int64(strings.Count(got, "\n")) != st.Out {
			t.Errorf("%s: %d lines out, %d complete lines before the cut", name, st.Out, complete)
		}
		if st.Out+st.RejectedTotal() != st.In || st.In > complete+1 {
			t.Errorf("%s: %d in, %d out, %d rejected: the incomplete last line is not accounted for", name, st.In, st.Out, st.RejectedTotal())
		}
	}
}

func TestRotationOrder(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"access.log", "access.log.1", "access.log.2.gz"}, []string{"access.log.2.gz", "access.log.1", "access.log"}},
		{[]string{"b.log", "a.log.10.gz", "a.log.9.gz", "a.log"}, []string{"b.log", "a.log.10.gz", "a.log.9.gz", "a.log"}},
		{[]string{"x.2026-11-01.gz", "y.log"}, []string{"x.2026-11-01.gz", "y.log"}},
		{[]string{"-", "access.log.1"}, []string{"-", "access.log.1"}},
		{[]string{"logs.d/app.1/access.log"}, []string{"logs.d/app.1/access.log"}},
	} {
		if got := RotationOrder(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("RotationOrder(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCompressWriter(t *testing.T) {
	for _, c := range []Compression{CompressGzip, CompressZstd, CompressNone} {
		var buf bytes.Buffer
		w, end, err := CompressWriter(&buf, c)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "line one\nline two\n")
		if err := end(); err != nil {
			t.Fatal(err)
		}
		in, _ := OpenInputs(nil, &buf)
		got, _ := io.ReadAll(in)
		if string(got) != "line one\nline two\n" {
			t.Errorf("%q: read back %q", c, got)
		}
	}
	if _, _, err := CompressWriter(io.Discard, "lz4"); err == nil {
		t.Error("lz4 accepted")
	}
}
