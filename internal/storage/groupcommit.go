package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/axon-hs/axon/internal/linger"
)

// Group commit for SQLite. SQLite has one writer, and with many small
// write transactions the commit itself dominates. So write transactions
// queue for one writer goroutine, which runs whatever is queued (up to
// maxGroup, waiting briefly for announced writes, announce.go, and under
// concurrent load for the next ones, see lingerMax) inside a
// single SQLite transaction, each in its own SAVEPOINT
// so one caller's failure rolls back only its own work, then commits once
// and answers every caller. A caller's WriteTx returns only after that
// commit, so "returned nil" still means "durable".

const maxGroup = 64

// lingerMax is the most a group's first write waits for the next ones
// while writes come often from concurrent callers (internal/linger). Into
// 50 rooms at once a commit carried ~2 roomserver writes, the others
// still being parsed and authorised on two busy cores; each commit
// rewrites ~13 shared WAL pages. Waiting up to 1 ms grew the groups to
// ~9, up to 2 ms to ~16 (docs/performance.md, round twelve).
const lingerMax = 2 * time.Millisecond

type writeReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
}

// errClosed is returned by WriteTx after Close.
var errClosed = errors.New("database is closed")

// panicError carries a panic from a write function back to its caller,
// which re-panics in its own goroutine.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic in write transaction: %v", p.value) }

func (db *DB) startWriter() {
	db.writeQueue = make(chan *writeReq, 1024)
	db.writerDone = make(chan struct{})
	go db.writeLoop()
}

func (db *DB) writeLoop() {
	defer close(db.writerDone)
	group := make([]*writeReq, 0, maxGroup)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var load linger.Load
	for req := range db.writeQueue {
		start := time.Now()
		group = append(group[:0], req)
		closed := db.fill(&group)
		if !closed {
			if group, closed = db.gather(group, timer); !closed {
				closed = db.fill(&group) // queued meanwhile by writers not announced
			}
		}
		if !closed {
			group, closed = linger.Gather(db.writeQueue, group, maxGroup, &load, start, lingerMax, timer, nil)
		}
		load.Taken(start, len(group))
		db.runGroup(group)
		if closed {
			return
		}
	}
}

// fill adds what is queued now to group (up to maxGroup); true if the
// queue closed.
func (db *DB) fill(group *[]*writeReq) bool {
	for len(*group) < maxGroup {
		select {
		case r, ok := <-db.writeQueue:
			if !ok {
				return true
			}
			*group = append(*group, r)
		default:
			return false
		}
	}
	return false
}

func (db *DB) groupedWriteTx(ctx context.Context, fn func(tx *Tx) error, a *Announcement) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		a.Withdraw()
		return errClosed
	}
	// Withdrawn just before it is queued: the writer may then miss it for
	// this group (it goes to the next), but never waits for a write it
	// already holds.
	a.Withdraw()
	db.writeQueue <- req
	db.closeMu.RUnlock()
	err := <-req.done
	var p *panicError
	if errors.As(err, &p) {
		panic(fmt.Sprintf("%v\n%s", p.value, p.stack))
	}
	return err
}

// runGroup runs the queued functions in one transaction.
func (db *DB) runGroup(group []*writeReq) {
	live := group[:0:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	sqlTx, err := db.writer.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range live {
			r.done <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	tx := &Tx{db: db, tx: sqlTx, grouped: true}
	results := make([]error, len(live))
	single := len(live) == 1
	ok := 0
	var sp *txSavepoints
	if !single {
		sp = db.savepoints.in(sqlTx)
	}
	for i, r := range live {
		mark := len(tx.ends)
		if single {
			results[i] = callWrite(r.fn, tx)
		} else if err := sp.Begin(); err != nil {
			results[i] = err
		} else {
			results[i] = callWrite(r.fn, tx)
			if results[i] != nil {
				_ = sp.Rollback()
			}
			_ = sp.Release()
		}
		if results[i] != nil {
			tx.ends = tx.ends[:mark] // not written: the caller failed
		} else {
			ok++
		}
	}
	// finish answers every caller: its own write's error, or else err.
	finish := func(err error) {
		for i, r := range live {
			if results[i] == nil {
				results[i] = err
			}
			r.done <- results[i]
		}
	}
	if ok == 0 {
		_ = sqlTx.Rollback()
		finish(nil)
		return
	}
	// The callers' merged end writes (atend.go): if they fail, nothing of
	// the group can commit.
	if err := callWrite((*Tx).runEnds, tx); err != nil {
		_ = sqlTx.Rollback()
		finish(err)
		return
	}
	if err := sqlTx.Commit(); err != nil {
		finish(fmt.Errorf("commit: %w", err))
		return
	}
	db.committed()
	db.observeGroup(ok)
	finish(nil)
}

func callWrite(fn func(tx *Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}
