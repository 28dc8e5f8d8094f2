package syncapi

import (
	"context"
	"sync"
)

// headReads shares reads of the log's stream heads between concurrent
// requests. Read-your-writes needs, per request, heads read after the
// request arrived (every write acknowledged before it is then covered);
// a read already in flight may have started earlier, so arrivals during
// it share the next read instead of each making their own. However many
// /sync requests arrive together, at most two reads run per round trip.
type headReads struct {
	read func(context.Context) ([]uint64, error)
	// known, if set, answers from memory without a read (false: read).
	known func() ([]uint64, bool)

	mu      sync.Mutex
	running *headRead // in flight
	next    *headRead // starts when running ends; shared by arrivals meanwhile
}

type headRead struct {
	done  chan struct{}
	heads []uint64
	err   error
}

// get returns stream heads read after the call began.
func (h *headReads) get(ctx context.Context) ([]uint64, error) {
	if h.known != nil {
		if heads, ok := h.known(); ok {
			return heads, nil // on the caller's goroutine: no hand-over
		}
	}
	r := h.join()
	select {
	case <-r.done:
		return r.heads, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// join picks the read a caller arriving now waits for: a new one if none
// runs, otherwise the one queued after the running read.
func (h *headReads) join() *headRead {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running == nil {
		h.running = &headRead{done: make(chan struct{})}
		go h.run(h.running)
		return h.running
	}
	if h.next == nil {
		h.next = &headRead{done: make(chan struct{})}
	}
	return h.next
}

// run performs r, then each read queued meanwhile. Reads do not use a
// caller's context: one caller giving up must not fail the others.
func (h *headReads) run(r *headRead) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), catchUpTimeout)
		r.heads, r.err = h.read(ctx)
		cancel()
		close(r.done)
		h.mu.Lock()
		r, h.next = h.next, nil
		h.running = r
		h.mu.Unlock()
	}
}
