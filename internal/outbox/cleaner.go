package outbox

import (
	"context"
	"sync"
	"time"
)

// cleaner deletes published rows off the publisher's path: a delete
// needs the database's write lock, which one long transaction (a room
// created with many events) may hold for a while, and the publisher must
// go on publishing what others have already committed meanwhile.
type cleaner struct {
	mu   sync.Mutex
	ids  []int64 // published, not yet deleted, oldest first
	kick chan struct{}
}

func newCleaner() *cleaner { return &cleaner{kick: make(chan struct{}, 1)} }

// add records published rows, waking the cleaner once a batch is due.
func (c *cleaner) add(ids []int64) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	c.ids = append(c.ids, ids...)
	full := len(c.ids) >= deleteBatch
	c.mu.Unlock()
	if full {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// pending is what is published but still in the table (reload skips it).
func (c *cleaner) pending() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int64(nil), c.ids...)
}

// runCleaner deletes published rows every cleanEvery or when a batch is
// full, and what is left when the outbox stops.
func (o *Outbox) runCleaner() {
	tick := time.NewTicker(cleanEvery)
	defer tick.Stop()
	for {
		select {
		case <-o.clean.kick:
		case <-tick.C:
		case <-o.stop:
			o.deletePublished()
			return
		}
		o.deletePublished()
		o.purge()
	}
}

// deletePublished deletes the published rows, deleteBatch at a time; on
// an error the rest stay for the next round.
func (o *Outbox) deletePublished() {
	for {
		o.clean.mu.Lock()
		batch := append([]int64(nil), o.clean.ids[:min(len(o.clean.ids), deleteBatch)]...)
		o.clean.mu.Unlock()
		if len(batch) == 0 || !o.deleteRows(batch) {
			return
		}
		o.clean.mu.Lock()
		o.clean.ids = append(o.clean.ids[:0:0], o.clean.ids[len(batch):]...)
		o.clean.mu.Unlock()
	}
}

// deleteRows removes published rows (marks them, when retained: see
// retain.go), reporting success.
func (o *Outbox) deleteRows(ids []int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := o.markPublished(ctx, ids); err != nil {
		o.cfg.Log.Warn("clean outbox", "table", o.cfg.Table, "error", err)
		return false
	}
	return true
}
