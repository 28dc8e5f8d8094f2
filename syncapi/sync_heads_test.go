package syncapi

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestHeadReadsShared: callers arriving while a read is in flight share
// one later read, never the earlier one, so each gets heads read after
// it arrived; a read's error reaches its callers.
func TestHeadReadsShared(t *testing.T) {
	var mu sync.Mutex
	reads := 0
	release := make(chan error) // each read waits for one value
	started := make(chan int, 10)
	h := &headReads{read: func(context.Context) ([]uint64, error) {
		mu.Lock()
		reads++
		n := reads
		mu.Unlock()
		started <- n
		if err := <-release; err != nil {
			return nil, err
		}
		return []uint64{uint64(n)}, nil
	}}
	ctx := context.Background()

	first := h.join()
	if n := <-started; n != 1 {
		t.Fatalf("first read is #%d", n)
	}
	// Read 1 is in flight: later callers must not get its answer.
	var late []*headRead
	for range 5 {
		late = append(late, h.join())
	}
	for _, r := range late {
		if r == first || r != late[0] {
			t.Fatal("a late caller does not share the next read")
		}
	}
	release <- nil
	<-first.done
	if first.err != nil || first.heads[0] != 1 {
		t.Fatalf("first caller got %v %v", first.heads, first.err)
	}
	if n := <-started; n != 2 {
		t.Fatalf("second read is #%d", n)
	}
	release <- nil
	<-late[0].done
	if late[0].err != nil || late[0].heads[0] != 2 {
		t.Fatalf("late callers got %v %v, want read 2", late[0].heads, late[0].err)
	}

	// A new caller after both ended starts a new read; errors pass on.
	errc := make(chan error, 1)
	go func() { _, err := h.get(ctx); errc <- err }()
	<-started
	release <- errors.New("log down")
	if err := <-errc; err == nil {
		t.Fatal("read error lost")
	}
	mu.Lock()
	defer mu.Unlock()
	if reads != 3 {
		t.Fatalf("%d reads, want 3", reads)
	}
}

// TestHeadReadsCallerGivesUp: a caller whose context ends stops waiting;
// the read still completes for the others.
func TestHeadReadsCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	h := &headReads{read: func(context.Context) ([]uint64, error) {
		<-release
		return []uint64{7}, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.get(ctx); err == nil {
		t.Fatal("cancelled caller got an answer before the read ended")
	}
	other := h.join() // queued after the running read
	close(release)
	<-other.done
	if other.err != nil || other.heads[0] != 7 {
		t.Fatalf("other caller got %v %v", other.heads, other.err)
	}
}
