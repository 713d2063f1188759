package processor

import (
	"context"
	"testing"
	"time"
)

func TestByteBudget(t *testing.T) {
	b := newByteBudget(100)
	ctx := context.Background()
	if !b.acquire(ctx, 60) || !b.acquire(ctx, 40) {
		t.Fatal("could not take what is free")
	}
	got := make(chan bool)
	go func() { got <- b.acquire(ctx, 50) }()
	select {
	case <-got:
		t.Fatal("took 50 bytes of an exhausted budget")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(30) // not yet enough
	select {
	case <-got:
		t.Fatal("took 50 bytes with 30 free")
	case <-time.After(50 * time.Millisecond):
	}
	b.release(30)
	if !<-got {
		t.Fatal("acquire failed once bytes were free")
	}
	// 10 free: a waiter gives up when its context ends.
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- b.acquire(cctx, 50) }()
	cancel()
	if <-got {
		t.Error("acquire succeeded after its context ended")
	}
	var none *byteBudget
	if !none.acquire(ctx, 1<<40) {
		t.Error("a nil budget should bound nothing")
	}
}

// TestCgroupLimit: the smallest limit from the process's cgroup up, in
// cgroup v2 (a systemd service under a slice) and v1 trees.
