package storage

import (
	"context"
	"sync/atomic"
	"time"
)

// Announced writes. A caller that prepares its write transaction outside
// the write lock (the roomserver builds and signs an event first) can
// announce it. While announced writes are still being prepared, the
// SQLite writer waits for them (at most gatherWait in all) before it
// commits a group. Into many rooms at once, each room's
// write is one event; without the wait a commit held 1.8 of them on
// average against 13 in one busy room, and every commit rewrites its
// shared pages (the tables' last pages, the rooms row page, sequences).

// gatherWait bounds how long a group waits for announced writes: about
// the time to build and sign an event on a busy machine. Writes that take
// longer to prepare go to the next group.
const gatherWait = 500 * time.Microsecond

// Announcement is a write transaction announced with Announce. Exactly
// one of WriteTx and Withdraw ends it.
type Announcement struct {
	db    *DB
	ended atomic.Bool
}

// Announce tells the writer a write transaction is coming (on
// PostgreSQL, with no single writer to gather for, nothing is counted).
func (db *DB) Announce() *Announcement {
	a := &Announcement{db: db}
	if db.writeQueue == nil {
		a.ended.Store(true)
	} else {
		db.announced.Add(1)
	}
	return a
}

// Withdraw ends an announcement without a write (the caller's
// preparation found nothing to write, or failed). Once ended, a no-op.
func (a *Announcement) Withdraw() {
	if a != nil && a.ended.CompareAndSwap(false, true) {
		a.db.announced.Add(-1)
	}
}

// WriteTx is the announced write: the database's WriteTx, the
// announcement ended as the write is queued.
func (a *Announcement) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	return a.db.writeTx(ctx, fn, a)
}

// gather adds announced writes to group as they are queued, until none
// is outstanding, the group is full, or
// gatherWait passed. It returns the group and whether the queue closed.
func (db *DB) gather(group []*writeReq, timer *time.Timer) ([]*writeReq, bool) {
	if db.announced.Load() <= 0 || len(group) >= maxGroup {
		return group, false
	}
	timer.Reset(gatherWait)
	defer timer.Stop()
	for len(group) < maxGroup && db.announced.Load() > 0 {
		select {
		case r, ok := <-db.writeQueue:
			if !ok {
				return group, true
			}
			group = append(group, r)
		case <-timer.C:
			return group, false
		}
	}
	return group, false
}
