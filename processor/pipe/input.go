package pipe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"compress/bzip2"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Input is the lines of several inputs read one after the other: files by
// name ("-" is stdin), each decompressed when it starts with gzip's or
// zstd's magic bytes. A file that does not end in a newline gets one, so
// that its last line is not joined to the next file's first. Read errors
// name the file. Run and Aggregate read an Input on a goroutine of their
// own, so the decompression runs beside the anonymizing workers.
type Input struct {
	names []string
	stdin io.Reader
	next  int
	cur   io.Reader // the open input, decompressed
	close func() error
	name  string
	last  byte // the last byte the current input gave
	err   error
}

// OpenInputs checks that every named file can be opened and returns their
// Input; no names is stdin alone. Names that logrotate gave (access.log.2.gz,
// access.log.1, access.log) are put oldest first, so that the statistics see
// time go forward; other names keep the order given.
func OpenInputs(names []string, stdin io.Reader) (*Input, error) {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, n := range names {
		if n == "-" {
			continue
		}
		f, err := os.Open(n)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		f.Close()
		if err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s is a directory", n)
		}
	}
	return &Input{names: RotationOrder(names), stdin: stdin}, nil
}

// RotationOrder returns names with each logrotate series (a base name and
// the same name with .N, .N.gz or .N.zst) put oldest first: the highest N
// first and the bare name last, where the series' first member stood.
func RotationOrder(names []string) []string {
	type member struct {
		name string
		n    int // rotation number; 0 for the live file
	}
	series := map[string][]member{}
	var bases []string
	for _, name := range names {
		base, n := rotation(name)
		if _, ok := series[base]; !ok {
			bases = append(bases, base)
		}
		series[base] = append(series[base], member{name, n})
	}
	out := make([]string, 0, len(names))
	for _, b := range bases {
		ms := series[b]
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].n > ms[j].n })
		for _, m := range ms {
			out = append(out, m.name)
		}
	}
	return out
}

// rotation splits "access.log.2.gz" into ("access.log", 2); a name
// without a rotation number is its own base with 0.
func rotation(name string) (string, int) {
	if name == "-" {
		return name, 0
	}
	s := name
	for _, ext := range []string{".gz", ".zst", ".zstd", ".bz2"} {
		s = strings.TrimSuffix(s, ext)
	}
	dot := strings.LastIndexByte(s, '.')
	if dot > 0 && dot > strings.LastIndexByte(s, filepath.Separator) {
		if n, err := strconv.Atoi(s[dot+1:]); err == nil && n > 0 && n < 1e6 {
			return s[:dot], n
		}
	}
	return name, 0
}

func (in *Input) Read(p []byte) (int, error) {
	for {
		if in.err != nil {
			return 0, in.err
		}
		if in.cur == nil {
			if in.next == len(in.names) {
				in.err = io.EOF
				continue
			}
			in.name = in.names[in.next]
			in.next++
			if in.err = in.open(); in.err != nil {
				continue
			}
		}
		n, err := in.cur.Read(p)
		if n > 0 {
			in.last = p[n-1]
		}
		switch {
		case err == io.EOF:
			in.err = in.close()
			in.cur = nil
			if in.last != '\n' && in.last != 0 && in.err == nil {
				in.last = 0
				if n < len(p) {
					p[n] = '\n'
					return n + 1, nil
				}
				in.cur = bytes.NewReader([]byte{'\n'})
				in.close = func() error { return nil }
			}
			in.last = 0
		case err != nil:
			in.close()
			in.err = in.explain(err)
		}
		if n > 0 || in.err != nil {
			return n, nil
		}
	}
}

// explain names the file in a read error, and says what an unexpected end
// of a compressed file means.
func (in *Input) explain(err error) error {
	name := in.name
	if name == "-" {
		name = "stdin"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the compressed data ends early (a truncated or partly written archive): %w", name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// open opens in.name and puts a decompressor in front of it when its first
// bytes are gzip's (1f 8b), zstd's (28 b5 2f fd) or bzip2's ("BZh" and
// the block size digit). Gzip is read across
// members (logrotate's delaycompress, cat-ed archives).
func (in *Input) open() error {
	var r io.Reader
	closeFile := func() error { return nil }
	if in.name == "-" {
		r = in.stdin
	} else {
		f, err := os.Open(in.name)
		if err != nil {
			return err
		}
		r, closeFile = f, f.Close
	}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		closeFile()
		return in.explain(err)
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFile()
			return in.explain(err)
		}
		in.cur, in.close = zr, func() error { zr.Close(); return closeFile() }
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			closeFile()
			return in.explain(err)
		}
		in.cur, in.close = zr, func() error { zr.Close(); return closeFile() }
	case len(magic) == 4 && string(magic[:3]) == "BZh" && magic[3] >= '1' && magic[3] <= '9':
		in.cur, in.close = bzip2.NewReader(br), closeFile
	default:
		in.cur, in.close = br, closeFile
	}
	return nil
}

// Compression of an output: none, gzip or zstd.
type Compression string

const (
	CompressNone Compression = ""
	CompressGzip Compression = "gzip"
	CompressZstd Compression = "zstd"
)

// CompressWriter returns w wrapped in c's encoder (w itself for none) and
// the function that ends the stream; it must be called after the last write.
func CompressWriter(w io.Writer, c Compression) (io.Writer, func() error, error) {
	switch c {
	case CompressNone, "none":
		return w, func() error { return nil }, nil
	case CompressGzip:
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		return zw, zw.Close, err
	case CompressZstd:
		zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return zw, zw.Close, nil
	}
	return nil, nil, fmt.Errorf("%q is not none, gzip or zstd", string(c))
}
