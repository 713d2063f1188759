package processor

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/segmentio/kafka-go/compress"
)

// leanZstd is the zstd codec logveil installs in kafka-go's table instead
// of its default: the fastest level (a fifth of the default's CPU for a few
// percent of size on log events), a 256 KiB window (a produced batch is at
// most kafka.batch_bytes) and low-memory decoders. kafka-go's own keeps an
// 8 MiB window per pooled encoder and large decoder buffers: tens of MiB
// for a sidecar that should stay under a hundred.
type leanZstd struct {
	encoders, decoders sync.Pool
}

func (*leanZstd) Code() int8   { return 4 }
func (*leanZstd) Name() string { return "zstd" }

func (c *leanZstd) NewReader(r io.Reader) io.ReadCloser {
	d, _ := c.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		if d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true)); err != nil {
			return &zstdReader{err: err}
		}
	} else if err := d.Reset(r); err != nil {
		return &zstdReader{err: err}
	}
	return &zstdReader{c: c, dec: d}
}

func (c *leanZstd) NewWriter(w io.Writer) io.WriteCloser {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		if e, err = zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(256<<10), zstd.WithLowerEncoderMem(true), zstd.WithZeroFrames(true)); err != nil {
			return &zstdWriter{err: err}
		}
	} else {
		e.Reset(w)
	}
	return &zstdWriter{c: c, enc: e}
}

type zstdReader struct {
	c   *leanZstd
	dec *zstd.Decoder
	err error
}

func (r *zstdReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return r.dec.Read(p)
}

func (r *zstdReader) WriteTo(w io.Writer) (int64, error) {
	if r.err != nil {
		return 0, r.err
	}
	return r.dec.WriteTo(w)
}

func (r *zstdReader) Close() error {
	if r.dec != nil {
		r.dec.Reset(nil) // let go of the input
		r.c.decoders.Put(r.dec)
		r.dec, r.err = nil, io.ErrClosedPipe
	}
	return nil
}

type zstdWriter struct {
	c   *leanZstd
	enc *zstd.Encoder
	err error
}

func (w *zstdWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return w.enc.Write(p)
}

func (w *zstdWriter) Close() error {
	if w.enc == nil {
		return w.err
	}
	err := w.enc.Close()
	w.enc.Reset(nil)
	w.c.encoders.Put(w.enc)
	w.enc = nil
	if w.err == nil {
		w.err = io.ErrClosedPipe
	}
	return err
}

var installZstd sync.Once

// useLeanZstd installs leanZstd for every kafka-go client of the process.
func useLeanZstd() {
	installZstd.Do(func() { compress.Codecs[compress.Zstd] = &leanZstd{} })
}
