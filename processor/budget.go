package processor

import (
	"context"
	"sync"
)

// byteBudget bounds the bytes of records held across a process's partition
// readers: a reader takes a chunk's worth before reading it and the
// consumer gives it back once the chunk's outputs are acknowledged. A nil
// budget bounds nothing.
type byteBudget struct {
	mu      sync.Mutex
	free    int
	waiting int           // readers waiting for bytes
	avail   chan struct{} // closed and replaced when bytes are given back
}

func newByteBudget(n int) *byteBudget { return &byteBudget{free: n, avail: make(chan struct{})} }

// acquire takes n bytes, waiting until they are free; false when ctx ends.
func (b *byteBudget) acquire(ctx context.Context, n int) bool {
	if b == nil {
		return true
	}
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		avail := b.avail
		b.waiting++
		b.mu.Unlock()
		select {
		case <-avail:
		case <-ctx.Done():
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
	}
}

// contended reports whether a reader waits for bytes: what is held for
// later (k-anonymous events) must then go.
func (b *byteBudget) contended() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting > 0
}

// release gives n bytes back.
func (b *byteBudget) release(n int) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.avail)
	b.avail = make(chan struct{})
	b.mu.Unlock()
}
