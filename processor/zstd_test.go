package processor

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestLeanZstd: what the lean codec writes, any zstd reader reads, and it
// reads what other producers write (larger windows, several frames),
// through pooled encoders and decoders reused across messages.
func TestLeanZstd(t *testing.T) {
	var c leanZstd
	var big bytes.Buffer
	for i := range 40000 {
		fmt.Fprintf(&big, `{"schema_version":1,"page":"/p/%d","country":"DE"}`+"\n", i%997)
	}
	for round := range 3 {
		for _, in := range [][]byte{[]byte("x"), big.Bytes(), {}} {
			var z bytes.Buffer
			w := c.NewWriter(&z)
			if _, err := w.Write(in); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			std, _ := zstd.NewReader(nil)
			got, err := std.DecodeAll(z.Bytes(), nil)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("round %d: stock decoder read %d of %d bytes: %v", round, len(got), len(in), err)
			}
			r := c.NewReader(bytes.NewReader(z.Bytes()))
			got, err = io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("round %d: lean decoder read %d of %d bytes: %v", round, len(got), len(in), err)
			}
		}
	}
	// Another producer's frames: default level and window, two of them.
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(8<<20))
	two := enc.EncodeAll(big.Bytes(), nil)
	two = enc.EncodeAll([]byte("tail\n"), two)
	r := c.NewReader(bytes.NewReader(two))
	got, err := io.ReadAll(r)
	r.Close()
	if want := append(bytes.Clone(big.Bytes()), "tail\n"...); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("lean decoder read %d of %d bytes of a stock stream: %v", len(got), len(want), err)
	}
	if _, err := c.NewReader(bytes.NewReader([]byte("not zstd at all"))).Read(make([]byte, 10)); err == nil {
		t.Error("garbage decoded without an error")
	}
}
