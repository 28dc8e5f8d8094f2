package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// sentLog numbers the messages of a phase (the number is in the body) and
// remembers when each was sent and whether the server acknowledged it.
type sentLog struct {
	mu     sync.Mutex
	start  []time.Time
	acked  []bool
	nAcked atomic.Int64
}

// begin takes the next message number, stamped now.
func (l *sentLog) begin() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start = append(l.start, time.Now())
	l.acked = append(l.acked, false)
	return len(l.start) - 1
}

func (l *sentLog) ack(i int) {
	l.mu.Lock()
	l.acked[i] = true
	l.mu.Unlock()
	l.nAcked.Add(1)
}

// startOf is when message i was sent; false for a number never taken.
func (l *sentLog) startOf(i int) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.start) {
		return time.Time{}, false
	}
	return l.start[i], true
}

// onlineMember is one member long-polling /sync in the room. The fields
// below distinct belong to poll until it returns.
type onlineMember struct {
	acc                 *account
	room, filter, since string
	distinct            atomic.Int64 // messages seen at least once

	seen     []bool // by message number
	dups     int
	limited  int // timelines the server cut (messages skipped, not lost)
	delivery []time.Duration
}

// poll long-polls /sync until ctx ends, noting each message it returns.
func (o *onlineMember) poll(ctx context.Context, b *bench, m *measurement, log *sentLog, syncs *atomic.Int64) {
	for ctx.Err() == nil {
		var sr syncResponse
		_, err := b.c.sync(ctx, o.acc, syncParams{since: o.since, filter: o.filter, timeout: longPoll}, &sr)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				m.rec.failure(fmt.Errorf("sync: %w", err))
				_ = sleep(ctx, 250*time.Millisecond) // don't hammer a failing server
			}
			continue
		}
		syncs.Add(1)
		o.since = sr.NextBatch
		tl := sr.Rooms.Join[o.room].Timeline
		if tl.Limited {
			o.limited++
		}
		for _, ev := range tl.Events {
			if ev.Type != matrixrules.MRoomMessage {
				continue
			}
			i, ok := b.parseProbe(ev.Content.Body)
			sent, known := log.startOf(i)
			if !ok || !known {
				continue
			}
			if i >= len(o.seen) {
				o.seen = append(o.seen, make([]bool, i+1-len(o.seen))...)
			}
			if o.seen[i] {
				o.dups++
				continue
			}
			o.seen[i] = true
			o.distinct.Add(1)
			o.delivery = append(o.delivery, now.Sub(sent))
		}
	}
}

// tallyDeliveries counts, over the acknowledged messages, how many of the
// online members saw each; call after every poll has returned.
func tallyDeliveries(log *sentLog, online []*onlineMember) map[string]any {
	var acked []int
	for i, ok := range log.acked {
		if ok {
			acked = append(acked, i)
		}
	}
	seenBy := make([]int, len(acked))
	var delivered, dups, limited int64
	var lags []time.Duration
	for _, o := range online {
		for k, i := range acked {
			if i < len(o.seen) && o.seen[i] {
				seenBy[k]++
				delivered++
			}
		}
		dups += int64(o.dups)
		limited += int64(o.limited)
		lags = append(lags, o.delivery...)
	}
	minSeen, byAll := len(online), 0
	for _, n := range seenBy {
		minSeen = min(minSeen, n)
		if n == len(online) {
			byAll++
		}
	}
	if len(acked) == 0 {
		minSeen = 0
	}
	expected := int64(len(acked)) * int64(len(online))
	return map[string]any{
		"messages_acked":          len(acked),
		"deliveries_expected":     expected,
		"delivered":               delivered,
		"lost":                    expected - delivered,
		"duplicates":              dups,
		"limited_timelines":       limited,
		"min_online_seeing_a_msg": minSeen,
		"messages_seen_by_all":    byAll,
		"send_to_long_poll_ms":    summarize(lags),
	}
}
