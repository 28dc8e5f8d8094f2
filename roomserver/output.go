package roomserver

import (
	"context"
	"fmt"

	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/roomserver/api"
)

// outboxConfig: outputs go through the shared transactional outbox (see
// internal/outbox), keyed by room.
func outboxConfig(r *RoomServer) outbox.Config {
	return outbox.Config{Table: "roomserver_outbox", KeyHeader: "room_id", MsgIDPrefix: "axon-rs-", Log: r.log,
		Retain: outbox.DefaultRetain}
}

// stageOutputs encodes the batch's outputs and writes them to the outbox
// in the same transaction as the events, so what is committed is
// published even if the log is down or the process dies right after.
func (r *RoomServer) stageOutputs(ctx context.Context, tx *istorage.Tx, roomID string, outputs []api.OutputEvent) ([]outbox.Entry, error) {
	data := make([][]byte, 0, len(outputs))
	for i := range outputs {
		d, err := api.EncodeOutput(&outputs[i])
		if err != nil {
			return nil, fmt.Errorf("encode output event: %w", err)
		}
		data = append(data, d)
	}
	// The entries are used once committed (publish): a single output's
	// row goes with the COMMIT on PostgreSQL.
	return r.outbox.StageAtCommit(ctx, tx, roomID, data...)
}

// publish hands committed outputs to the outbox and waits (at most
// answerAfter) until the log has them, so a sender answered afterwards
// can read its own event everywhere (syncapi waits for what the log
// holds). The room's worker takes its next batch only after this, and
// the outbox publishes in order, which keeps the room's order on the
// stream. If the log is slow or down the wait ends early: the events are
// committed and the outbox publishes them later.
func (r *RoomServer) publish(entries []outbox.Entry) {
	ctx, cancel := context.WithTimeout(context.Background(), r.answerAfter)
	defer cancel()
	if err := r.outbox.Send(ctx, entries); err != nil {
		r.log.Warn("room output not yet published; the outbox will publish it", "error", err)
		return
	}
	// Back-pressure: while this process's consumers (syncapi, federation
	// sender) are far behind, the room waits (within answerAfter) rather
	// than accepting writes faster than /sync can deliver them.
	if w, ok := r.out.(consumerWaiter); ok {
		_ = w.WaitForConsumers(ctx, maxConsumerLag)
	}
}

// consumerWaiter is the part of *stream.Stream that applies back-pressure.
type consumerWaiter interface {
	WaitForConsumers(ctx context.Context, maxLag uint64) error
}

// maxConsumerLag is how many room outputs the local consumers may be
// behind before rooms wait for them: well under a second of syncapi work.
const maxConsumerLag = 100
