package userapi

import (
	"context"
	"sync"
	"time"

	"github.com/axon-hs/axon/userapi/storage"
)

// lastSeenTracker batches device activity so requests never wait on a
// database write.
type lastSeenTracker struct {
	mu      sync.Mutex
	pending map[[2]string]storage.LastSeen // (localpart, device) → latest
}

func newLastSeenTracker() *lastSeenTracker {
	return &lastSeenTracker{pending: map[[2]string]storage.LastSeen{}}
}

func (t *lastSeenTracker) record(s storage.LastSeen) {
	t.mu.Lock()
	t.pending[[2]string{s.Localpart, s.DeviceID}] = s
	t.mu.Unlock()
}

// take empties the batch.
func (t *lastSeenTracker) take() []storage.LastSeen {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]storage.LastSeen, 0, len(t.pending))
	for _, s := range t.pending {
		out = append(out, s)
	}
	clear(t.pending)
	return out
}

// overlay returns the unwritten activity of one device, if any.
func (t *lastSeenTracker) overlay(localpart, deviceID string) (storage.LastSeen, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.pending[[2]string{localpart, deviceID}]
	return s, ok
}

func (u *UserAPI) flushLastSeenLoop(every time.Duration) {
	defer close(u.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			u.flushLastSeen()
		case <-u.stop:
			u.flushLastSeen()
			return
		}
	}
}

func (u *UserAPI) flushLastSeen() {
	batch := u.lastSeen.take()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.db.UpdateLastSeen(ctx, batch); err != nil {
		u.base.Log.Warn("writing device last-seen data", "error", err, "devices", len(batch))
	}
}
