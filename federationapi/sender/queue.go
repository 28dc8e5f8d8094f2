package sender

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/storage"
	istorage "github.com/axon-hs/axon/internal/storage"
)

// queue sends everything stored for one destination, one transaction at
// a time, as the spec requires.
type queue struct {
	s      *Sender
	dest   string
	notify chan struct{} // new items
	alive  chan struct{} // the destination reached us: retry now
}

func (q *queue) wake(alive bool) {
	ch := q.notify
	if alive {
		ch = q.alive
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (q *queue) run() {
	defer q.s.wg.Done()
	ctx := q.s.ctx
	cfg := &q.s.cfg
	log := cfg.Log.With("destination", q.dest)
	var pending *gomatrixserverlib.Transaction // resent unchanged until acked
	var pendingUnder storage.Fence             // the lease pending was read under
	for ctx.Err() == nil {
		under, held := q.lease()
		if !held {
			q.s.drop(q) // its partition moved: the new holder resumes from the store
			return
		}
		if under != pendingUnder {
			pending = nil // held again after another process may have sent it: read the store
		}
		state, err := q.s.store.Destination(ctx, q.dest)
		if err != nil {
			if !q.sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if state.Blacklisted {
			if !q.waitAlive(ctx, &state) {
				return
			}
			continue
		}
		if wait := time.UnixMilli(state.RetryAtTS).Sub(cfg.Now()); state.RetryAtTS > 0 && wait > 0 {
			if !q.waitRetry(ctx, wait, &state) {
				return
			}
			continue
		}
		if pending == nil {
			items, err := q.s.store.NextBatch(ctx, q.dest, cfg.MaxPDUs, cfg.MaxEDUs)
			if err == nil && len(items) > 0 {
				pending, err = q.transaction(ctx, items)
				pendingUnder = under
			}
			if q.fenced(err) {
				return
			}
			if err != nil {
				log.Warn("federation queue read failed", "error", err)
				if !q.sleep(ctx, time.Second) {
					return
				}
				continue
			}
			if pending == nil {
				if !q.idle(ctx) {
					return
				}
				continue
			}
		}
		if q.fenced(q.checkFence(ctx)) {
			return
		}
		err = q.send(ctx, pending)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			q.failed(ctx, &state, err)
			continue
		}
		if err := q.s.store.Ack(ctx, q.dest, string(pending.TransactionID)); err != nil {
			log.Warn("federation queue ack failed", "error", err)
			continue // resend the same transaction: receivers dedupe
		}
		pending = nil
		if state.Failures > 0 {
			q.reset(ctx, &state)
		}
	}
}

// transaction is the transaction of items: the one they were already
// put in (a former sender's, resent unchanged), or a new one recorded
// with them before it is sent, under the destination's lease.
func (q *queue) transaction(ctx context.Context, items []storage.QueuedItem) (*gomatrixserverlib.Transaction, error) {
	if items[0].TxnID != "" {
		return q.build(gomatrixserverlib.TransactionID(items[0].TxnID), items), nil
	}
	t := q.build(q.s.nextTxnID(), items)
	err := q.s.store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := q.fence(ctx, tx); err != nil {
			return err
		}
		return q.s.store.AssignTxn(ctx, tx, q.dest, string(t.TransactionID), ids(items))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// lease is the lease the destination is sent under (the zero Fence when
// not partitioned) and whether it is held.
func (q *queue) lease() (storage.Fence, bool) {
	if q.s.cfg.Partitions == nil {
		return storage.Fence{}, true
	}
	return q.s.cfg.Partitions.Fence(q.dest)
}

// fence checks inside tx that the destination's lease is still the
// newest (nothing to check for a sender that is not partitioned).
func (q *queue) fence(ctx context.Context, tx *istorage.Tx) error {
	p := q.s.cfg.Partitions
	if p == nil {
		return nil
	}
	f, ok := p.Fence(q.dest)
	if !ok {
		return storage.ErrFenced
	}
	return q.s.store.CheckFence(ctx, tx, f)
}

// checkFence is fence before a send: a former holder paused past its
// lease must not send, even a transaction the new holder resends.
func (q *queue) checkFence(ctx context.Context) error {
	if q.s.cfg.Partitions == nil {
		return nil
	}
	return q.s.store.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return q.fence(ctx, tx) })
}

// fenced reports err as the lease having moved: the lease is given up at
// once and the queue ends.
func (q *queue) fenced(err error) bool {
	if q.s.cfg.Partitions == nil || !errors.Is(err, storage.ErrFenced) {
		return false
	}
	if f, ok := q.s.cfg.Partitions.Fence(q.dest); ok {
		q.s.cfg.Partitions.Lose(f)
	}
	q.s.cfg.Log.Warn("destination's partition taken over by another process: not sending", "destination", q.dest)
	q.s.drop(q)
	return true
}

func (q *queue) build(id gomatrixserverlib.TransactionID, items []storage.QueuedItem) *gomatrixserverlib.Transaction {
	t := &gomatrixserverlib.Transaction{
		TransactionID:  id,
		Origin:         q.s.cfg.Origin,
		Destination:    spec.ServerName(q.dest),
		OriginServerTS: spec.AsTimestamp(q.s.cfg.Now()),
		PDUs:           []json.RawMessage{},
	}
	for _, it := range items {
		if it.IsEDU {
			var edu gomatrixserverlib.EDU
			if json.Unmarshal(it.Body, &edu) == nil {
				edu.Origin, edu.Destination = string(q.s.cfg.Origin), q.dest
				t.EDUs = append(t.EDUs, edu)
			}
			continue
		}
		t.PDUs = append(t.PDUs, it.Body)
	}
	return t
}

func (q *queue) send(ctx context.Context, t *gomatrixserverlib.Transaction) error {
	ctx, cancel := context.WithTimeout(ctx, q.s.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	resp, err := q.s.client.SendTransaction(ctx, *t)
	observeTxn(start, err)
	if err != nil {
		return err
	}
	for id, r := range resp.PDUs {
		if r.Error != "" {
			// The destination rejected that PDU: resending will not help.
			q.s.cfg.Log.Debug("destination rejected PDU", "destination", q.dest, "event_id", id, "error", r.Error)
		}
	}
	return nil
}

// failed records a failure and schedules the retry, blacklisting (and
// dropping the queue of) a destination that has failed for too long.
func (q *queue) failed(ctx context.Context, state *storage.Destination, err error) {
	cfg := &q.s.cfg
	now := cfg.Now()
	state.Failures++
	if state.FirstFailureTS == 0 {
		state.FirstFailureTS = now.UnixMilli()
	}
	state.RetryAtTS = now.Add(cfg.backoff(state.Failures)).UnixMilli()
	if now.Sub(time.UnixMilli(state.FirstFailureTS)) >= cfg.BlacklistAfter {
		state.Blacklisted = true
		cfg.Log.Warn("destination unreachable for too long; blacklisted", "destination", q.dest, "failures", state.Failures, "error", err)
		_ = q.s.store.DropQueue(ctx, q.dest)
	} else {
		cfg.Log.Info("transaction failed; backing off", "destination", q.dest, "failures", state.Failures,
			"retry_in", cfg.backoff(state.Failures), "error", err)
	}
	q.s.troubled.Store(q.dest, true)
	_ = q.s.store.SetDestination(ctx, *state)
}

func (q *queue) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// waitRetry sleeps out a backoff unless the destination reaches us.
func (q *queue) waitRetry(ctx context.Context, d time.Duration, state *storage.Destination) bool {
	select {
	case <-time.After(d):
		return true
	case <-q.alive:
		q.reset(ctx, state)
		return true
	case <-ctx.Done():
		return false
	}
}

// waitAlive parks a blacklisted destination until it reaches us.
func (q *queue) waitAlive(ctx context.Context, state *storage.Destination) bool {
	select {
	case <-q.alive:
		q.reset(ctx, state)
		return true
	case <-ctx.Done():
		return false
	}
}

func (q *queue) reset(ctx context.Context, state *storage.Destination) {
	*state = storage.Destination{ServerName: q.dest}
	if q.s.store.SetDestination(ctx, *state) == nil {
		q.s.troubled.Delete(q.dest)
	}
}

// idle waits for new items; after IdleExit with none it ends the
// goroutine (Notify starts a new one).
func (q *queue) idle(ctx context.Context) bool {
	select {
	case <-q.notify:
		return true
	case <-q.alive:
		return true
	case <-time.After(q.s.cfg.IdleExit):
		if q.s.exit(q) {
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

func ids(items []storage.QueuedItem) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}
