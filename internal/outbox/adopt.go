package outbox

import (
	"context"
	"strconv"
)

// Adopt queues for publication the rows another process staged and did
// not publish (it stopped, or lost the keys to this one) whose key match
// accepts, oldest first; Wait on the ticket to know they are published.
// A partitioned component calls it when it takes over a partition,
// before handling anything new for the partition's keys, so their order
// on the stream is kept (an error means nothing was queued: do not take
// the keys). Rows the other process published are looked for in the
// stream's tail first (onlog.go); one it publishes at the same time is
// dropped by the log's duplicate window (same Nats-Msg-Id).
func (o *Outbox) Adopt(ctx context.Context, match func(key string) bool) (Ticket, error) {
	if o.out == nil {
		return Ticket{}, nil
	}
	// What this process queued, then what it published and has not yet
	// marked, then the table: a row moves through them in that order.
	o.mu.Lock()
	queued := make(map[int64]bool, len(o.queue))
	for _, e := range o.queue {
		queued[e.ID] = true
	}
	o.mu.Unlock()
	for _, id := range o.clean.pending() {
		queued[id] = true
	}
	rows, err := o.db.QueryContext(ctx, `SELECT outbox_id, msg_key, output_json FROM `+o.cfg.Table+o.unpublishedOnly()+
		` ORDER BY outbox_id LIMIT `+strconv.Itoa(maxQueue))
	if err != nil {
		return Ticket{}, err
	}
	defer rows.Close()
	var adopt []Entry
	for rows.Next() {
		var e Entry
		var js string
		if err := rows.Scan(&e.ID, &e.Key, &js); err != nil {
			return Ticket{}, err
		}
		if !queued[e.ID] && match(e.Key) {
			e.Data = []byte(js)
			adopt = append(adopt, e)
		}
	}
	if err := rows.Err(); err != nil {
		return Ticket{}, err
	}
	if len(adopt) > 0 {
		o.cfg.Log.Info("publishing outbox rows another process left", "table", o.cfg.Table, "count", len(adopt))
	}
	sent, ok := o.enqueue(adopt, true)
	return Ticket{sent: sent, ok: ok}, nil
}
