package outbox

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Retention (Config.Retain): published rows stay in the table, marked
// with when they were published, for Retain. If the stream is lost and
// created again (an external NATS that lost its store: the Publisher's
// Resets count changes) they are published again, before anything newer,
// so consumers that start over on the new stream get what the lost store
// held and they had not read yet. Consumers must take a message twice
// without harm (they do: positions and event IDs).

// DefaultRetain is how long the components keep published rows: well
// beyond how far behind back-pressure lets the consumers fall.
const DefaultRetain = time.Minute

// RetainSchema adds the publication time to an outbox table (Schema) for
// an outbox with Config.Retain; 0 means not yet published.
func RetainSchema(table string) string {
	return `ALTER TABLE ` + table + ` ADD COLUMN published_at BIGINT NOT NULL DEFAULT 0`
}

// RetainFillfactor leaves half of each page of a retaining outbox table
// free on PostgreSQL (the migration's Postgres text; SQLite has no such
// setting). Marking a row published then rewrites it on its own page as
// a HOT update: published_at is in no index, so no index entry is added
// and the WAL carries the change alone, not a new row version and its
// index entries. Pages written before the setting keep their old fill
// until their rows are purged.
func RetainFillfactor(table string) string {
	return `ALTER TABLE ` + table + ` SET (fillfactor = 50)`
}

// resetCounter is the part of *stream.Stream that says when the stream
// was created again.
type resetCounter interface{ Resets() uint64 }

// purgeEvery is how often published rows past Retain are deleted.
const purgeEvery = 10 * time.Second

// unpublishedOnly is the reload filter of a retaining outbox.
func (o *Outbox) unpublishedOnly() string {
	if o.cfg.Retain > 0 {
		return ` WHERE published_at = 0`
	}
	return ``
}

// markPublished records rows as published (retaining) or deletes them.
func (o *Outbox) markPublished(ctx context.Context, ids []int64) error {
	args := make([]any, len(ids), len(ids)+1)
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i], marks[i] = id, "$"+strconv.Itoa(i+1)
	}
	in := ` WHERE outbox_id IN (` + strings.Join(marks, ",") + `)`
	if o.cfg.Retain <= 0 {
		_, err := o.db.ExecContext(ctx, `DELETE FROM `+o.cfg.Table+in, args...)
		return err
	}
	args = append(args, time.Now().UnixMilli())
	_, err := o.db.ExecContext(ctx, `UPDATE `+o.cfg.Table+` SET published_at = $`+strconv.Itoa(len(ids)+1)+in, args...)
	return err
}

// purge deletes published rows older than Retain.
func (o *Outbox) purge() {
	if o.cfg.Retain <= 0 || time.Since(o.lastPurge) < purgeEvery {
		return
	}
	o.lastPurge = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cutoff := time.Now().Add(-o.cfg.Retain).UnixMilli()
	if _, err := o.db.ExecContext(ctx, `DELETE FROM `+o.cfg.Table+` WHERE published_at > 0 AND published_at < $1`, cutoff); err != nil {
		o.cfg.Log.Warn("purge outbox", "table", o.cfg.Table, "error", err)
	}
}

// streamWasReset reports (once) that the stream was created again since
// the outbox last looked.
func (o *Outbox) streamWasReset() bool {
	rc, ok := o.out.(resetCounter)
	if !ok || o.cfg.Retain <= 0 {
		return false
	}
	n := rc.Resets()
	if n == o.seenResets {
		return false
	}
	o.seenResets = n
	return true
}

// replayRetained queues the rows already published (retained, or not
// yet marked), oldest first, ahead of everything not yet published.
func (o *Outbox) replayRetained(ctx context.Context) error {
	o.mu.Lock()
	queued := make(map[int64]bool, len(o.queue))
	for i, e := range o.queue {
		queued[e.ID] = true
		o.queue[i].onLog = false // found on the stream that was lost
	}
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, `SELECT outbox_id, msg_key, output_json FROM `+o.cfg.Table+
		` ORDER BY outbox_id LIMIT `+strconv.Itoa(2*maxQueue))
	if err != nil {
		return err
	}
	defer rows.Close()
	var loaded []Entry
	for rows.Next() {
		var e Entry
		var js string
		if err := rows.Scan(&e.ID, &e.Key, &js); err != nil {
			return err
		}
		if !queued[e.ID] {
			e.Data = []byte(js)
			loaded = append(loaded, e)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	o.cfg.Log.Warn("stream was created again: publishing retained outbox rows again", "table", o.cfg.Table, "count", len(loaded))
	o.mu.Lock()
	o.queue = append(loaded, o.queue...)
	o.queued += uint64(len(loaded))
	o.mu.Unlock()
	return nil
}
