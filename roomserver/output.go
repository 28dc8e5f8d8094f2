package roomserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
)

// pendingOutputs are a batch's outputs, encoded and stored in the outbox
// inside the batch's transaction.
type pendingOutputs struct {
	roomID string
	data   [][]byte
	ids    []int64
}

// stageOutputs encodes the batch's outputs and writes them to the outbox
// in the same transaction as the events, so what is committed is
// published even if the log is down or the process dies right after.
func (r *RoomServer) stageOutputs(ctx context.Context, tx *istorage.Tx, roomID string, outputs []api.OutputEvent) (*pendingOutputs, error) {
	p := &pendingOutputs{roomID: roomID}
	for i := range outputs {
		data, err := json.Marshal(&outputs[i])
		if err != nil {
			return nil, fmt.Errorf("encode output event: %w", err)
		}
		p.data = append(p.data, data)
	}
	ids, err := r.db.InsertOutbox(ctx, tx, roomID, p.data)
	if err != nil {
		return nil, fmt.Errorf("stage outputs: %w", err)
	}
	p.ids = ids
	return p, nil
}

// publish writes staged outputs to the room_events stream in order. The
// room's worker does not take its next batch until this returns, which
// keeps per-room order on the stream. While the log is unreachable it
// retries; on shutdown the rest stays in the outbox for the next start.
// The Nats-Msg-Id header lets JetStream drop a re-publish after a crash.
func (r *RoomServer) publish(p *pendingOutputs) {
	if p == nil {
		return
	}
	for i, data := range p.data {
		headers := map[string]string{"room_id": p.roomID, "Nats-Msg-Id": fmt.Sprintf("axon-rs-%d", p.ids[i])}
		backoff := 50 * time.Millisecond
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := r.out.Publish(ctx, data, headers)
			cancel()
			if err == nil {
				break
			}
			if r.isClosed() {
				r.log.Warn("shutting down with unpublished outputs; they are published on next start", "room_id", p.roomID)
				return
			}
			r.log.Error("publish output event; retrying", "room_id", p.roomID, "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			backoff = min(backoff*2, 5*time.Second)
		}
		r.outboxAcked <- p.ids[i]
	}
}

// replayOutbox publishes what a previous run committed but did not get
// acknowledged, before any new input is accepted.
func (r *RoomServer) replayOutbox(ctx context.Context) error {
	pending, err := r.db.PendingOutbox(ctx)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	if len(pending) > 0 {
		r.log.Info("publishing outputs left from the previous run", "count", len(pending))
	}
	for _, e := range pending {
		r.publish(&pendingOutputs{roomID: e.RoomID, data: [][]byte{e.JSON}, ids: []int64{e.ID}})
	}
	return nil
}

// cleanOutbox deletes acknowledged outbox rows in batches, so the cleanup
// costs one small write transaction now and then rather than one per event.
func (r *RoomServer) cleanOutbox() {
	defer close(r.outboxDone)
	var ids []int64
	flush := func() {
		if len(ids) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.db.DeleteOutbox(ctx, ids); err != nil {
			r.log.Warn("clean outbox", "error", err)
			return
		}
		ids = ids[:0]
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case id, ok := <-r.outboxAcked:
			if !ok {
				flush()
				return
			}
			ids = append(ids, id)
			if len(ids) >= 1000 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}
