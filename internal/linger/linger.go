// Package linger decides when a batcher should wait a little for more
// work before it takes a batch. Batches amortise a fixed cost (an SQLite
// commit rewrites its shared pages whatever it carries), and while work
// arrives from many concurrent callers a short wait lets one batch carry
// several. At a low rate, or for one caller that waits for each batch
// before sending the next, the same wait would only add latency; a Load
// tells the cases apart from the recent batches' sizes and arrival rate.
//
// Used by the SQLite group commit (internal/storage) and by batch stream
// consumers (internal/stream). Figures: docs/performance.md, round twelve.
package linger

import "time"

const (
	// gap: waiting stops when nothing arrived within this many mean
	// arrival intervals (the callers are all waiting for the batch).
	gap = 2
	// concurrent is the mean batch size from which work is taken to come
	// from concurrent callers (one sequential caller gives batches of 1).
	concurrent = 1.5
)

// Load follows the recent rate and batch size of one batcher. It is not
// safe for concurrent use: the batcher's own goroutine owns it.
type Load struct {
	lastStart time.Time
	interval  time.Duration // mean time between arrivals (moving average)
	size      float64       // mean batch size (moving average)
}

// Taken records a batch of n items whose first was taken at start.
func (l *Load) Taken(start time.Time, n int) {
	if n <= 0 {
		return
	}
	if !l.lastStart.IsZero() {
		per := start.Sub(l.lastStart) / time.Duration(n)
		l.interval += (per - l.interval) / 8
	}
	l.lastStart = start
	l.size += (float64(n) - l.size) / 8
}

// Busy reports whether waiting up to max would likely gather at least
// two more items from concurrent callers.
func (l *Load) Busy(max time.Duration) bool {
	return l.size >= concurrent && l.interval > 0 && l.interval <= max/2
}

// Gather adds items from ch to batch while l is busy: until batch holds
// limit, max has passed since start, nothing arrived within gap mean
// intervals, or done is closed. It returns the batch and whether ch was
// closed. timer is the caller's stopped timer, stopped again on return.
func Gather[T any](ch <-chan T, batch []T, limit int, l *Load, start time.Time, max time.Duration, timer *time.Timer, done <-chan struct{}) ([]T, bool) {
	if !l.Busy(max) {
		return batch, false
	}
	deadline := start.Add(max)
	defer timer.Stop()
	for len(batch) < limit {
		wait := min(time.Until(deadline), gap*l.interval)
		if wait <= 0 {
			return batch, false
		}
		timer.Reset(wait)
		select {
		case v, ok := <-ch:
			if !ok {
				return batch, true
			}
			batch = append(batch, v)
		case <-timer.C:
			return batch, false
		case <-done:
			return batch, false
		}
	}
	return batch, false
}
