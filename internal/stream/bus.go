// Package stream is Axon's log between components: durable, ordered
// streams on NATS JetStream. In the default (monolith) setup the NATS
// server runs embedded in the process with its store in the data dir and
// no network port; for scale it points at an external NATS cluster.
//
// Consumers here are position-based: a component stores the sequence of
// the last message it applied in its own database, in the same
// transaction as the effect, and asks to resume after it on start. That
// makes application exactly-once across restarts without JetStream-side
// durable consumer state.
package stream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says where the log lives.
type Config struct {
	// URLs of an external NATS server/cluster. Empty means embedded.
	URLs []string
	// StoreDir is the embedded server's JetStream directory.
	StoreDir string
	// Prefix namespaces stream names and subjects so several Axon
	// deployments can share one NATS cluster.
	Prefix string
	// Replicas for streams on an external cluster (1 when embedded).
	Replicas int
	// InMemory keeps streams in memory (tests only).
	InMemory bool
	// DuplicateWindow is how long JetStream remembers message IDs to
	// drop a re-publish; 0 means EmbeddedDuplicateWindow when embedded,
	// ExternalDuplicateWindow otherwise (tests set it shorter).
	DuplicateWindow time.Duration
}

// The duplicate window. Outboxes do not depend on it: before publishing
// again what may have reached the log they read the stream's tail
// (ScanBack). Embedded, it only has to cover a publish still in flight;
// its IDs are a large part of the heap at thousands of messages per
// second. With an external NATS several processes may publish one
// outbox's rows (Adopt), which the tail cannot tell apart in time, so it
// keeps JetStream's default.
const (
	EmbeddedDuplicateWindow = 10 * time.Second
	ExternalDuplicateWindow = 2 * time.Minute
)

// EmbeddedBlockCacheExpire is how long the embedded server's file store
// keeps a block's messages in memory after their last read or write
// (upstream: 10 s; third_party/nats-server/AXON-PATCH.md). Consumers read
// each message within milliseconds of its write, so the buffers of full
// blocks only waited out the expiry: 10 s of the log's bytes, ~48 MB at
// 5,000 events/s. A consumer that falls further behind reads the block
// from disk once and keeps it while it reads on.
const EmbeddedBlockCacheExpire = time.Second

// Bus is a connection to the log.
type Bus struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	server *server.Server // nil with an external cluster

	boardsMu sync.Mutex
	boards   map[string]*progressBoard // by stream (backpressure.go)
}

// Connect starts the embedded server if no URLs are configured, then
// connects to it.
func Connect(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "axon"
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.DuplicateWindow <= 0 {
		cfg.DuplicateWindow = ExternalDuplicateWindow
		if len(cfg.URLs) == 0 {
			cfg.DuplicateWindow = EmbeddedDuplicateWindow
		}
	}
	b := &Bus{cfg: cfg}
	var opts []nats.Option
	opts = append(opts, nats.Name("axon"), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	url := ""
	if len(cfg.URLs) == 0 {
		srv, err := startEmbedded(cfg.StoreDir)
		if err != nil {
			return nil, err
		}
		b.server = srv
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		for i, u := range cfg.URLs {
			if i > 0 {
				url += ","
			}
			url += u
		}
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("connect to NATS %s: %w", url, err)
	}
	b.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	b.js = js
	trackBus(b, true)
	return b, nil
}

func startEmbedded(storeDir string) (*server.Server, error) {
	if storeDir == "" {
		return nil, errors.New("embedded NATS needs a store directory")
	}
	if err := os.MkdirAll(storeDir, 0o750); err != nil {
		return nil, fmt.Errorf("create NATS store dir: %w", err)
	}
	abs, _ := filepath.Abs(storeDir)
	srv, err := server.NewServer(&server.Options{
		ServerName:                "axon-embedded",
		DontListen:                true,
		JetStream:                 true,
		StoreDir:                  abs,
		NoSigs:                    true,
		NoLog:                     true,
		MaxPayload:                MaxPayload,
		JetStreamMaxMemory:        256 << 20,
		JetStreamBlockCacheExpire: EmbeddedBlockCacheExpire,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded NATS did not start within 30s")
	}
	return srv, nil
}

// Close drains the connection (flushing pending publishes) and stops the
// embedded server.
func (b *Bus) Close() {
	trackBus(b, false)
	if b.nc != nil {
		_ = b.nc.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !b.nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		b.nc.Close()
	}
	b.shutdownServer()
}

func (b *Bus) shutdownServer() {
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
}

// Conn is the raw NATS connection (for request/reply adapters).
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Stream is one named log, e.g. "room_events".
type Stream struct {
	bus     *Bus
	name    string // JetStream stream name
	short   string // name without the deployment prefix, e.g. "room_events"
	subject string
	cfg     jetstream.StreamConfig
	js      atomic.Pointer[jetstream.Stream] // replaced when recreated (reset.go)
}

// Subject returns the subject messages are published on.
func (s *Stream) Subject() string { return s.subject }

// Stream creates (or opens) the named stream. maxAge 0 keeps messages
// until maxBytes is reached (0: unlimited).
func (b *Bus) Stream(ctx context.Context, name string, maxAge time.Duration, maxBytes int64) (*Stream, error) {
	full := b.cfg.Prefix + "_" + name
	subject := b.cfg.Prefix + "." + name
	storage := jetstream.FileStorage
	if b.cfg.InMemory {
		storage = jetstream.MemoryStorage
	}
	if maxBytes == 0 {
		maxBytes = -1
	}
	dups := b.cfg.DuplicateWindow
	if maxAge > 0 {
		dups = min(dups, maxAge) // JetStream refuses a longer window
	}
	s := &Stream{bus: b, name: full, short: name, subject: subject, cfg: jetstream.StreamConfig{
		Name:       full,
		Subjects:   []string{subject, subject + ".>"},
		Storage:    storage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     maxAge,
		MaxBytes:   maxBytes,
		Replicas:   b.cfg.Replicas,
		Discard:    jetstream.DiscardOld,
		Duplicates: dups,
		// A per-subject limit no stream can reach: it changes no
		// retention, but makes the file store pick 4 MB blocks instead
		// of the 8 MB it uses for streams without limits (nats-server's
		// autoTuneFileStorageBlockSize), and the block being written is
		// held in memory whole (docs/performance.md, Memory).
		MaxMsgsPerSubject: math.MaxInt64,
	}}
	if err := s.recreate(ctx); err != nil {
		return nil, fmt.Errorf("create stream %s: %w%s", full, err, b.replicasHint())
	}
	return s, nil
}

// Publish appends data and waits for the log to acknowledge it, returning
// its sequence number. key (optional) is appended to the subject so
// consumers can filter, e.g. by room.
func (s *Stream) Publish(ctx context.Context, data []byte, headers map[string]string) (uint64, error) {
	msg := &nats.Msg{Subject: s.subject, Data: data}
	if len(headers) > 0 {
		msg.Header = nats.Header{}
		for k, v := range headers {
			msg.Header.Set(k, v)
		}
	}
	ack, err := s.bus.js.PublishMsg(ctx, msg)
	if err != nil && streamMissing(err) && s.restore(ctx) == nil {
		ack, err = s.bus.js.PublishMsg(ctx, msg)
	}
	if err != nil {
		return 0, fmt.Errorf("publish to %s: %w", s.name, err)
	}
	s.bus.board(s.name).publishedUpTo(ack.Sequence)
	return ack.Sequence, nil
}

// Message is one delivered log entry.
type Message struct {
	Seq     uint64
	Data    []byte
	Headers nats.Header
	Time    time.Time
}

// Handler applies one message. It must record msg.Seq as its new position
// in the same transaction as the effect. An error is logged and the same
// message retried with backoff; one that keeps failing is handed to
// deadLetter and the stream goes on (see deadletter.go).
type Handler func(ctx context.Context, msg Message) error

// Consume delivers every message after afterSeq, in order, to h until ctx
// is cancelled. It returns once the subscription is set up; delivery runs
// in the background. The returned channel closes when delivery stops.
func (s *Stream) Consume(ctx context.Context, consumerName string, afterSeq uint64, deadLetter DeadLetterFunc, h Handler) (<-chan struct{}, error) {
	return s.ConsumeBatch(ctx, consumerName, afterSeq, BatchOptions{MaxMessages: 1, DeadLetter: deadLetter}, func(ctx context.Context, msgs []Message) error {
		return h(ctx, msgs[0])
	})
}

// LastSeq is the sequence of the newest message in the stream.
func (s *Stream) LastSeq(ctx context.Context) (uint64, error) {
	info, err := s.handle().Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// DeleteStreams removes every stream (and key-value bucket) of this bus's prefix. Tests on a
// shared NATS server use it to leave nothing behind.
func (b *Bus) DeleteStreams(ctx context.Context) error {
	names := b.js.StreamNames(ctx)
	var toDelete []string
	for name := range names.Name() {
		// Streams, and key-value buckets (KeyValue), of this prefix.
		if strings.HasPrefix(name, b.cfg.Prefix+"_") || strings.HasPrefix(name, "KV_"+b.cfg.Prefix+"_") {
			toDelete = append(toDelete, name)
		}
	}
	if err := names.Err(); err != nil {
		return err
	}
	for _, name := range toDelete {
		b.board(name).renumbered() // Head asks again (heads.go)
		if err := b.js.DeleteStream(ctx, name); err != nil {
			return fmt.Errorf("delete stream %s: %w", name, err)
		}
	}
	return nil
}

// OutMsg is one message of a PublishBatch.
type OutMsg struct {
	Data    []byte
	Headers map[string]string
}

// PublishBatch publishes msgs in order without waiting for each
// acknowledgement in turn, then waits for all of them. It returns how
// many (from the start) the log acknowledged; on error the rest must be
// published again, and may be on the log already (ScanBack finds them;
// a Nats-Msg-Id header drops a repeat within the duplicate window).
func (s *Stream) PublishBatch(ctx context.Context, msgs []OutMsg) (int, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var sendErr error
	for _, m := range msgs {
		msg := &nats.Msg{Subject: s.subject, Data: m.Data, Header: nats.Header{}}
		for k, v := range m.Headers {
			msg.Header.Set(k, v)
		}
		f, err := s.bus.js.PublishMsgAsync(msg)
		if err != nil {
			sendErr = err // wait for those already sent, report the rest
			break
		}
		futures = append(futures, f)
	}
	board := s.bus.board(s.name)
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			board.publishedUpTo(ack.Sequence)
		case err := <-f.Err():
			if streamMissing(err) {
				_ = s.restore(ctx) // the caller publishes the rest again
			}
			return i, fmt.Errorf("publish to %s: %w", s.name, err)
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	if sendErr != nil {
		return len(futures), fmt.Errorf("publish to %s: %w", s.name, sendErr)
	}
	return len(futures), nil
}

// Check reports whether the log is reachable: connected, and the server
// answers a round trip within ctx (readiness checks).
func (b *Bus) Check(ctx context.Context) error {
	if b.nc == nil || !b.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	timeout := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if err := b.nc.FlushTimeout(timeout); err != nil {
		return fmt.Errorf("NATS round trip: %w", err)
	}
	return nil
}

// MaxPayload is the largest message the embedded NATS server takes (the
// NATS maximum). Room outputs name big state changes instead of carrying
// them, but the polylith's RPC replies travel over the same connection,
// and QueryStateDelta answers a big join's whole change in one reply
// (10,000 members and 10,000 other state events are ~15 MB). An external
// NATS needs max_payload as large.
const MaxPayload = 64 << 20
