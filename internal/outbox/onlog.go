package outbox

import (
	"context"
	"strconv"
	"strings"
)

// Rows that may already be on the log: those read from the table (an
// earlier run, or another process, may have published them before it
// could mark them) and those whose acknowledgement did not come. Before
// publishing them the outbox reads the stream's tail and skips what is
// there, so a repeat is dropped however long ago the first copy went out
// (JetStream's duplicate window only covers its last seconds or
// minutes; internal/stream, EmbeddedDuplicateWindow).

// TailReader is the part of the log that reads back the newest
// messages' IDs (a *stream.Stream; stream.ScanBack).
type TailReader interface {
	ScanBack(ctx context.Context, limit int, visit func(msgID string) bool) (bool, error)
}

// maxScanBack bounds the messages read back for one check; beyond it the
// rows not found are published again (the duplicate window may still
// drop them; consumers take a repeat without harm).
const maxScanBack = 100_000

func (o *Outbox) msgID(id int64) string { return o.cfg.MsgIDPrefix + strconv.FormatInt(id, 10) }

// markUnsure records entries that may already be on the log. Call with
// o.mu held.
func (o *Outbox) markUnsure(entries []Entry) {
	if _, ok := o.out.(TailReader); !ok {
		return
	}
	if o.unsure == nil {
		o.unsure = make(map[int64]bool, len(entries))
	}
	for _, e := range entries {
		o.unsure[e.ID] = true
	}
}

// skipLogged reads the stream's tail for the unsure rows and marks the
// queued entries found there as published.
//
// The read stops at the first message of this outbox older than every
// unsure row: one publisher sends an outbox's rows in order, and marks
// them published in that order, so every unsure row that reached the log
// is newer than any row it has marked or acknowledged since (with one
// process, as with the embedded NATS, that is exact; with several, the
// external NATS keeps a 2-minute window as well).
func (o *Outbox) skipLogged(ctx context.Context) error {
	tr := o.out.(TailReader)
	o.mu.Lock()
	want := make(map[int64]bool, len(o.unsure))
	lowest := int64(-1)
	for id := range o.unsure {
		want[id] = true
		if lowest < 0 || id < lowest {
			lowest = id
		}
	}
	o.mu.Unlock()
	found := make(map[int64]bool)
	whole, err := tr.ScanBack(ctx, maxScanBack, func(msgID string) bool {
		rest, ok := strings.CutPrefix(msgID, o.cfg.MsgIDPrefix)
		if !ok {
			return true
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return true // another outbox's prefix that starts with ours
		}
		if want[id] {
			found[id] = true
			return len(found) < len(want)
		}
		return id > lowest
	})
	if err != nil {
		return err
	}
	if !whole {
		o.cfg.Log.Warn("outbox rows not found in the stream's tail are published again", "table", o.cfg.Table,
			"read_back", maxScanBack, "unsure", len(want), "found", len(found))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.queue {
		if found[o.queue[i].ID] {
			o.queue[i].onLog = true
		}
	}
	for id := range want {
		delete(o.unsure, id)
	}
	if len(found) > 0 {
		o.cfg.Log.Info("outbox rows already on the stream are not published again", "table", o.cfg.Table, "count", len(found))
	}
	return nil
}
