// Package outbox makes a component's stream output as durable as its
// database writes (the transactional outbox): a message is written to the
// component's outbox table in the same transaction as the change it
// announces, and published after the commit by one background publisher,
// in order, with a Nats-Msg-Id header. Published rows are deleted in
// batches; rows a previous run left (log down, crash) are published again
// on start, except those the stream's tail shows already there (onlog.go).
// A failed publish is retried, never lost, and never fails the request
// that made the change.
//
// Order: messages go out in the order Send was called, so a caller that
// commits and sends one key's changes under a lock (e.g. per user) keeps
// that key's order on the stream.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
)

// Publisher is the log the outbox publishes to (a *stream.Stream).
type Publisher interface {
	Publish(ctx context.Context, data []byte, headers map[string]string) (uint64, error)
}

// Schema is the CREATE TABLE of an outbox table, for the component's
// migrations.
func Schema(table string) string {
	return `CREATE TABLE ` + table + ` (
	outbox_id {{SERIAL}},
	msg_key TEXT NOT NULL,
	output_json TEXT NOT NULL
);`
}

// Config names a component's outbox.
type Config struct {
	// Table was created with Schema, e.g. "keyserver_outbox".
	Table string
	// KeyHeader, if set, is the header carrying each message's key
	// (e.g. "user_id"), so consumers can tell keys apart cheaply.
	KeyHeader string
	// MsgIDPrefix makes Nats-Msg-Id (prefix + row ID) unique among the
	// outboxes publishing to one stream, e.g. "axon-ks-".
	MsgIDPrefix string
	Log         *slog.Logger
	// Retain keeps published rows this long, to publish them again if
	// the stream is lost (retain.go; the table needs RetainSchema).
	Retain time.Duration
}

// Entry is one staged message.
type Entry struct {
	ID   int64
	Key  string
	Data []byte

	onLog bool // found on the stream (onlog.go): counted, not sent
}

const (
	// maxQueue bounds the messages held in memory while the log is down;
	// beyond it they wait in the table and are reloaded from there.
	maxQueue     = 10_000
	deleteBatch  = 500
	cleanEvery   = 200 * time.Millisecond
	maxBackoff   = 5 * time.Second
	publishLimit = 10 * time.Second
	// publishBatch messages are pipelined to the log at a time.
	publishBatch = 64
)

// Outbox is one component's outbox. Start it after opening the database;
// Close it before closing the database.
type Outbox struct {
	cfg Config
	// insert is Stage's statement, built once (not per staged message).
	insert string
	db     *storage.DB
	out    Publisher // nil: stage only; a later run publishes

	mu       sync.Mutex
	queue    []Entry
	overflow bool // rows were left out of queue: reload from the table
	sent     uint64
	queued   uint64
	advanced chan struct{}  // closed (and replaced) when sent grows
	unsure   map[int64]bool // queued rows that may be on the log (onlog.go)

	seenResets uint64    // the publisher's Resets when last checked
	lastPurge  time.Time // retained rows last purged (cleaner goroutine)

	clean     *cleaner
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns an outbox over db publishing to out (a nil interface when
// this process has no log).
func New(db *storage.DB, out Publisher, cfg Config) *Outbox {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Outbox{cfg: cfg, db: db, out: out, advanced: make(chan struct{}), clean: newCleaner(),
		insert: `INSERT INTO ` + cfg.Table + ` (msg_key, output_json) VALUES ($1, $2)`,
		kick:   make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start queues what a previous run left unpublished, to go out before
// anything sent from now on, and starts the publisher.
func (o *Outbox) Start(ctx context.Context) error {
	if o.out == nil {
		close(o.done)
		return nil
	}
	if rc, ok := o.out.(resetCounter); ok {
		o.seenResets = rc.Resets()
	}
	if err := o.reload(ctx, nil); err != nil {
		return fmt.Errorf("read %s: %w", o.cfg.Table, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); o.run() }()
	go func() { defer wg.Done(); o.runCleaner() }()
	go func() { wg.Wait(); close(o.done) }()
	return nil
}

// Close stops the publisher; unpublished rows stay for the next start.
func (o *Outbox) Close() {
	o.closeOnce.Do(func() { close(o.stop) })
	<-o.done
}

// Stage writes msgs, in order, to the outbox inside tx. Pass the entries
// to Send once tx has committed.
func (o *Outbox) Stage(ctx context.Context, tx *storage.Tx, key string, msgs ...[]byte) ([]Entry, error) {
	return o.stage(ctx, tx, false, key, msgs)
}

// StageAtCommit is Stage for a caller that uses the entries only once
// WriteTx returned: on PostgreSQL one message's row is sent with the
// COMMIT (storage.Tx.InsertIDAtCommit), not in a round trip of its own,
// and its ID set when tx commits. The row is still written in tx, so
// what commits is published as with Stage.
func (o *Outbox) StageAtCommit(ctx context.Context, tx *storage.Tx, key string, msgs ...[]byte) ([]Entry, error) {
	return o.stage(ctx, tx, true, key, msgs)
}

func (o *Outbox) stage(ctx context.Context, tx *storage.Tx, atCommit bool, key string, msgs [][]byte) ([]Entry, error) {
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, Entry{Key: key, Data: m})
	}
	if atCommit && len(out) == 1 {
		if err := tx.InsertIDAtCommit(ctx, o.insert, "outbox_id", &out[0].ID, key, storage.Text(out[0].Data)); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		return out, nil
	}
	if err := storage.Runs(len(out), stageRows, func(lo, hi int) error {
		return o.stageRows(ctx, tx, out[lo:hi])
	}); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return out, nil
}

// stageRows bounds the rows of one INSERT (a room's batch of PDUs has
// one output each: a few statements, not one round trip per output).
// Rows go in runs of a power of two (storage.Runs).
const stageRows = 64

// stageRows inserts entries with one statement and sets their IDs. The
// IDs are taken in VALUES order, so sorted they match the entries.
func (o *Outbox) stageRows(ctx context.Context, tx *storage.Tx, entries []Entry) error {
	if len(entries) == 1 {
		// One row (a local send's batch, often): on SQLite an exec and
		// the last rowid are cheaper than a query with RETURNING.
		id, err := tx.InsertID(ctx, o.insert, "outbox_id", entries[0].Key, storage.Text(entries[0].Data))
		entries[0].ID = id
		return err
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO ` + o.cfg.Table + ` (msg_key, output_json) VALUES `)
	args := make([]any, 0, 2*len(entries))
	for i, e := range entries {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($%d, $%d)", 2*i+1, 2*i+2)
		args = append(args, e.Key, storage.Text(e.Data))
	}
	q.WriteString(` RETURNING outbox_id`)
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := make([]int64, 0, len(entries))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) != len(entries) {
		return fmt.Errorf("%d of %d rows staged", len(ids), len(entries))
	}
	slices.Sort(ids)
	for i := range entries {
		entries[i].ID = ids[i]
	}
	return nil
}

// Enqueue queues committed entries for publication without waiting.
func (o *Outbox) Enqueue(entries []Entry) { o.enqueue(entries, false) }

// Send queues committed entries for publication and waits until they are
// published or ctx is done. The error only says the wait ended early:
// the entries are published anyway.
func (o *Outbox) Send(ctx context.Context, entries []Entry) error {
	return o.Wait(ctx, o.Queue(entries))
}

// Ticket says when queued entries are published (see Queue).
type Ticket struct {
	sent uint64
	ok   bool
}

// Queue queues committed entries like Send without waiting: call it
// where the order of commits is kept (under the caller's lock), then Wait
// outside it.
func (o *Outbox) Queue(entries []Entry) Ticket {
	sent, ok := o.enqueue(entries, false)
	return Ticket{sent: sent, ok: ok}
}

// Wait waits until the entries of t are published or ctx is done; the
// error only says the wait ended early.
func (o *Outbox) Wait(ctx context.Context, t Ticket) error {
	if !t.ok {
		return nil
	}
	ticket := t.sent
	for {
		o.mu.Lock()
		sent, ch := o.sent, o.advanced
		o.mu.Unlock()
		if sent >= ticket {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-o.done:
			return fmt.Errorf("outbox closed; published on next start")
		}
	}
}

// enqueue returns the count of sent messages at which entries are all
// published, and false when there is nothing to wait for. unsure: they
// may be on the log already (read from the table).
func (o *Outbox) enqueue(entries []Entry, unsure bool) (uint64, bool) {
	if len(entries) == 0 || o.out == nil {
		return 0, false
	}
	o.mu.Lock()
	defer o.wake()
	defer o.mu.Unlock()
	if o.overflow || len(o.queue)+len(entries) > maxQueue {
		o.overflow = true // the publisher reloads them from the table
		return 0, false
	}
	o.queue = append(o.queue, entries...)
	o.queued += uint64(len(entries))
	if unsure {
		o.markUnsure(entries)
	}
	return o.queued, true
}

func (o *Outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// run is the publisher: the queue head is published until the log takes
// it, then popped.
func (o *Outbox) run() {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-o.stop:
			return
		default:
		}
		if o.streamWasReset() {
			if err := o.replayRetained(context.Background()); err != nil {
				o.cfg.Log.Error("read retained outbox rows", "table", o.cfg.Table, "error", err)
			}
		}
		o.mu.Lock()
		check := len(o.unsure) > 0
		o.mu.Unlock()
		if check {
			if err := o.checkLogged(); err != nil {
				o.cfg.Log.Error("read the stream's tail before publishing again; retrying", "table", o.cfg.Table, "error", err, "retry_in", backoff)
				if !o.pause(&backoff) {
					return
				}
				continue
			}
		}
		o.mu.Lock()
		batch := append([]Entry(nil), o.queue[:min(len(o.queue), publishBatch)]...)
		reload := len(batch) == 0 && o.overflow
		o.mu.Unlock()
		switch {
		case len(batch) > 0:
			n, err := o.publish(batch)
			ids := make([]int64, n)
			for i, e := range batch[:n] {
				ids[i] = e.ID
			}
			o.clean.add(ids)
			o.pop(n)
			if err != nil {
				o.mu.Lock()
				o.markUnsure(batch[n:]) // sent, perhaps stored, not acknowledged
				o.mu.Unlock()
				o.cfg.Log.Error("publish from outbox; retrying", "table", o.cfg.Table, "error", err, "retry_in", backoff)
				if !o.pause(&backoff) {
					return
				}
				continue
			}
			backoff = 50 * time.Millisecond
		case reload:
			if err := o.reload(context.Background(), o.clean.pending()); err != nil {
				o.cfg.Log.Error("read outbox; retrying", "table", o.cfg.Table, "error", err)
				select {
				case <-time.After(time.Second):
				case <-o.stop:
					return
				}
			}
		default:
			select {
			case <-o.kick:
			case <-o.stop:
				return
			}
		}
	}
}

// pause waits out backoff and doubles it; false means the outbox stops.
func (o *Outbox) pause(backoff *time.Duration) bool {
	select {
	case <-time.After(*backoff):
	case <-o.stop:
		return false
	}
	*backoff = min(*backoff*2, maxBackoff)
	return true
}

// checkLogged runs skipLogged within the publish bound.
func (o *Outbox) checkLogged() error {
	ctx, cancel := context.WithTimeout(context.Background(), publishLimit)
	defer cancel()
	return o.skipLogged(ctx)
}

// BatchPublisher is a Publisher that can pipeline several messages
// (a *stream.Stream): acknowledgements are awaited together.
type BatchPublisher interface {
	PublishBatch(ctx context.Context, msgs []stream.OutMsg) (int, error)
}

// publish sends entries in order (but those found on the log) and
// returns how many, from the start, are on the log now.
func (o *Outbox) publish(entries []Entry) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), publishLimit)
	defer cancel()
	msgs := make([]stream.OutMsg, 0, len(entries))
	at := make([]int, 0, len(entries)) // entries index of each message
	for i, e := range entries {
		if e.onLog {
			continue
		}
		headers := map[string]string{"Nats-Msg-Id": o.msgID(e.ID)}
		if o.cfg.KeyHeader != "" {
			headers[o.cfg.KeyHeader] = e.Key
		}
		msgs = append(msgs, stream.OutMsg{Data: e.Data, Headers: headers})
		at = append(at, i)
	}
	n, err := o.send(ctx, msgs)
	if n < len(msgs) {
		return at[n], err // entries before the first message not taken
	}
	return len(entries), err
}

// send publishes msgs in order and returns how many the log took.
func (o *Outbox) send(ctx context.Context, msgs []stream.OutMsg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if bp, ok := o.out.(BatchPublisher); ok {
		return bp.PublishBatch(ctx, msgs)
	}
	for i, m := range msgs {
		if _, err := o.out.Publish(ctx, m.Data, m.Headers); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// pop removes n published entries from the queue head.
func (o *Outbox) pop(n int) {
	if n == 0 {
		return
	}
	o.mu.Lock()
	clear(o.queue[:n])
	o.queue = o.queue[n:]
	o.sent += uint64(n)
	close(o.advanced)
	o.advanced = make(chan struct{})
	o.mu.Unlock()
}

// reload queues the table's unpublished rows (oldest first), skipping
// those published but not yet deleted. An earlier run may have published
// some of them: they are checked against the stream's tail (onlog.go).
func (o *Outbox) reload(ctx context.Context, acked []int64) error {
	skip := make(map[int64]bool, len(acked))
	for _, id := range acked {
		skip[id] = true
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rows, err := o.db.QueryContext(ctx, `SELECT outbox_id, msg_key, output_json FROM `+o.cfg.Table+o.unpublishedOnly()+
		` ORDER BY outbox_id LIMIT `+strconv.Itoa(maxQueue+len(acked)))
	if err != nil {
		return err
	}
	defer rows.Close()
	var loaded []Entry
	n := 0
	for rows.Next() {
		var e Entry
		var js string
		if err := rows.Scan(&e.ID, &e.Key, &js); err != nil {
			return err
		}
		n++
		if !skip[e.ID] {
			e.Data = []byte(js)
			loaded = append(loaded, e)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(loaded) > 0 {
		o.cfg.Log.Info("publishing outbox rows not yet published", "table", o.cfg.Table, "count", len(loaded))
	}
	o.mu.Lock()
	o.queue = append(o.queue, loaded...)
	o.queued += uint64(len(loaded))
	o.markUnsure(loaded)
	o.overflow = n >= maxQueue+len(acked) // more left in the table
	o.mu.Unlock()
	return nil
}
