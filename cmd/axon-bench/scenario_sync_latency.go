package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// longPoll is the /sync timeout the receiver uses, as real clients do.
const longPoll = 30 * time.Second

// syncLatencyScenario measures delivery latency: how long after a client
// starts sending a message another client's long-polling /sync returns it.
// Messages go one at a time so each latency is unaffected by queueing.
// With -receivers N, N clients long-poll and a message counts as seen
// once all have it: the server's CPU per message then covers one send
// and N /sync responses (compare with N = 1 for the cost of a response).
type syncLatencyScenario struct {
	m         int
	receivers int
	wait      time.Duration
}

func newSyncLatencyScenario() *syncLatencyScenario {
	return &syncLatencyScenario{m: 200, receivers: 1, wait: 10 * time.Second}
}

func (s *syncLatencyScenario) name() string { return "sync-latency" }
func (s *syncLatencyScenario) summary() string {
	return "one sender, long-polling /sync receivers (default one): send→visible latency"
}

func (s *syncLatencyScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.m, "m", s.m, "messages to send, one at a time")
	fs.IntVar(&s.receivers, "receivers", s.receivers, "long-polling receivers in the room; a message is seen when all have it")
	fs.Var(secondsFlag{&s.wait}, "wait", "count a message lost when not seen after this `duration` (seconds or like 10s)")
}

func (s *syncLatencyScenario) validate() error {
	if s.wait <= 0 {
		return errors.New("-wait must be positive")
	}
	return positive(map[string]int{"m": s.m, "receivers": s.receivers})
}

// probes tracks each message from send start to arrival in /sync (at
// every one of need receivers).
type probes struct {
	mu      sync.Mutex
	need    int
	got     []int // receivers that have it
	sent    []time.Time
	acked   []time.Time
	arrived []time.Time
	seen    []chan struct{} // closed on arrival
	nSeen   atomic.Int64
}

func newProbes(n, need int) *probes {
	p := &probes{need: need, got: make([]int, n), sent: make([]time.Time, n), acked: make([]time.Time, n), arrived: make([]time.Time, n), seen: make([]chan struct{}, n)}
	for i := range p.seen {
		p.seen[i] = make(chan struct{})
	}
	return p
}

func (p *probes) markSent(i int, t time.Time)  { p.mu.Lock(); p.sent[i] = t; p.mu.Unlock() }
func (p *probes) markAcked(i int, t time.Time) { p.mu.Lock(); p.acked[i] = t; p.mu.Unlock() }

// arrive records that a receiver got probe i (each receiver calls it
// once per probe) and, once all have, returns its latency.
func (p *probes) arrive(i int, t time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < 0 || i >= len(p.arrived) || !p.arrived[i].IsZero() || p.sent[i].IsZero() {
		return 0, false
	}
	if p.got[i]++; p.got[i] < p.need {
		return 0, false
	}
	p.arrived[i] = t
	close(p.seen[i])
	p.nSeen.Add(1)
	return t.Sub(p.sent[i]), true
}

func (b *bench) probeBody(i int) string { return fmt.Sprintf("axb-probe %s %d", b.runID, i) }

func (b *bench) parseProbe(body string) (int, bool) {
	rest, ok := strings.CutPrefix(body, fmt.Sprintf("axb-probe %s ", b.runID))
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil
}

func (s *syncLatencyScenario) run(ctx context.Context, b *bench) error {
	users, err := b.newUsers(ctx, "synclat", 1+s.receivers, 2)
	if err != nil {
		return err
	}
	sender, receivers := users[0], users[1:]
	rooms, err := b.createRooms(ctx, "synclat", users[:1], 1)
	if err != nil {
		return err
	}
	room := rooms[0]
	if err := b.joinAll(ctx, "synclat", receivers, room, 4); err != nil {
		return err
	}
	filters, sinces := make([]string, len(receivers)), make([]string, len(receivers))
	for i, receiver := range receivers {
		if filters[i], err = b.c.uploadFilter(ctx, receiver, lightFilter([]string{room}, 50, matrixrules.MRoomMessage)); err != nil {
			return err
		}
		var initial syncResponse
		if _, err := b.c.sync(ctx, receiver, syncParams{filter: filters[i]}, &initial); err != nil {
			return fmt.Errorf("receiver's initial sync: %w", err)
		}
		sinces[i] = initial.NextBatch
	}

	p := newProbes(s.m, len(receivers))
	m := b.measure("sync-latency", "", "messages", "send start → seen in every receiver's /sync",
		map[string]any{"m": s.m, "receivers": s.receivers, "wait": s.wait.String()})
	recvCtx, stopRecv := context.WithCancel(ctx)
	var syncErrors atomic.Int64
	var recvWG sync.WaitGroup
	for i, receiver := range receivers {
		recvWG.Go(func() {
			s.receive(recvCtx, b, m, p, receiver, sender.UserID, room, filters[i], sinces[i], &syncErrors)
		})
	}
	acks, sendErrors := s.send(ctx, b, m, p, sender, room)
	// Give the last messages the same chance to arrive as the others had.
	for deadline := time.Now().Add(s.wait); p.nSeen.Load() < int64(len(acks)) && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	stopRecv()
	recvWG.Wait()
	if err := ctx.Err(); err != nil {
		m.abort()
		return err
	}

	var ackToVisible []time.Duration
	lost := 0
	for i := range p.acked {
		switch {
		case p.acked[i].IsZero():
		case p.arrived[i].IsZero():
			lost++
		default:
			ackToVisible = append(ackToVisible, max(p.arrived[i].Sub(p.acked[i]), 0))
		}
	}
	return m.finish(map[string]any{
		"lost":              lost,
		"send_errors":       sendErrors,
		"sync_errors":       syncErrors.Load(),
		"send_ack_ms":       summarize(acks),
		"ack_to_visible_ms": summarize(ackToVisible),
	})
}

// send sends the probes one at a time, each after the previous one arrived
// (or was given up on), and returns the PUT latencies of the acknowledged ones.
func (s *syncLatencyScenario) send(ctx context.Context, b *bench, m *measurement, p *probes, sender *account, room string) (acks []time.Duration, errs int) {
	for i := 0; i < s.m && ctx.Err() == nil; i++ {
		p.markSent(i, time.Now())
		res, err := b.c.sendText(ctx, sender, room, b.nextTxn(), b.probeBody(i))
		if err != nil {
			m.rec.failure(fmt.Errorf("send: %w", err))
			errs++
			continue
		}
		p.markAcked(i, time.Now())
		acks = append(acks, res.latency)
		t := time.NewTimer(s.wait)
		select {
		case <-p.seen[i]:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	return acks, errs
}

// receive long-polls /sync and records each probe's arrival until ctx ends.
func (s *syncLatencyScenario) receive(ctx context.Context, b *bench, m *measurement, p *probes,
	receiver *account, senderID, room, filter, since string, syncErrors *atomic.Int64) {
	for ctx.Err() == nil {
		var sr syncResponse
		_, err := b.c.sync(ctx, receiver, syncParams{since: since, filter: filter, timeout: longPoll}, &sr)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				syncErrors.Add(1)
				m.rec.failure(fmt.Errorf("sync: %w", err))
				_ = sleep(ctx, 250*time.Millisecond) // don't hammer a failing server
			}
			continue
		}
		since = sr.NextBatch
		for _, ev := range sr.Rooms.Join[room].Timeline.Events {
			if ev.Sender != senderID || ev.Type != matrixrules.MRoomMessage {
				continue
			}
			if i, ok := b.parseProbe(ev.Content.Body); ok {
				if d, first := p.arrive(i, now); first {
					m.rec.success(d)
				}
			}
		}
	}
}
