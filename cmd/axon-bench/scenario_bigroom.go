package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// maxRoomSize bounds --members: each member is a registered user.
const maxRoomSize = 100_000

// bigroomScenario measures how the cost of a message grows with the room.
// For each size N: one room of N members, the last O of them long-polling
// /sync in it (each wake is a real /sync response), the first S sending
// as fast as answered (or at --rate in total) for T. Per size it reports
// events/s, send latency, the server's CPU per event and the delivery to
// the long-polls (every online member should see every message: lost 0),
// then times the lazy-loading initial /sync of one member. lost counts
// (message, online member) pairs that member's /sync never returned:
// not caught up within -wait, or skipped by a limited timeline (then
// limited_timelines > 0; a client would page back with /messages). Users are
// shared between sizes (the room of N is joined by users 0..N-1), so the
// largest size decides how many are registered.
type bigroomScenario struct {
	sizes                      []int
	online, senders, c, repeat int
	rate                       float64
	dur, wait                  time.Duration
}

func newBigroomScenario() *bigroomScenario {
	return &bigroomScenario{sizes: []int{2, 1000, 10000}, online: 300, senders: 10, c: 32, repeat: 3,
		dur: 15 * time.Second, wait: 30 * time.Second}
}

func (s *bigroomScenario) name() string { return "bigroom" }
func (s *bigroomScenario) summary() string {
	return "messages into rooms of N members with O long-polling: CPU per event, delivery, lazy initial /sync"
}

func (s *bigroomScenario) bind(fs *flag.FlagSet) {
	fs.Var(sizesFlag{&s.sizes}, "members", "room `sizes` to measure, comma-separated (run smallest first)")
	fs.IntVar(&s.online, "online", s.online, "members long-polling /sync in the room (at most the room's size; 0: the send path alone)")
	fs.IntVar(&s.senders, "senders", s.senders, "members sending concurrently (at most the room's size)")
	fs.Float64Var(&s.rate, "rate", s.rate, "messages per second in total (0: as fast as answered)")
	fs.Var(secondsFlag{&s.dur}, "t", "`duration` of sending per size, in seconds or like 15s")
	fs.Var(secondsFlag{&s.wait}, "wait", "after sending, how long the long-polls may catch up before the rest counts as lost")
	fs.IntVar(&s.repeat, "repeat", s.repeat, "lazy-loading initial /syncs to time per size")
	fs.IntVar(&s.c, "c", s.c, "setup concurrency (registrations, joins)")
}

func (s *bigroomScenario) validate() error {
	if s.dur <= 0 || s.wait <= 0 {
		return errors.New("-t and -wait must be positive")
	}
	if s.rate < 0 {
		return errors.New("-rate must not be negative")
	}
	if len(s.sizes) == 0 {
		return errors.New("-members needs at least one size")
	}
	// --online 0 measures the send path alone (no /sync woken).
	if s.online < 0 {
		return errors.New("-online must not be negative")
	}
	return positive(map[string]int{"senders": s.senders, "repeat": s.repeat, "c": s.c})
}

func (s *bigroomScenario) run(ctx context.Context, b *bench) error {
	users, err := b.newUsers(ctx, "bigroom", s.sizes[len(s.sizes)-1], s.c)
	if err != nil {
		return err
	}
	for _, n := range s.sizes {
		if err := s.runSize(ctx, b, users[:n]); err != nil {
			return fmt.Errorf("room of %s members: %w", commas(int64(n)), err)
		}
	}
	return nil
}

// runSize sets up one room of len(members), then measures sending into
// it and a member's initial sync.
func (s *bigroomScenario) runSize(ctx context.Context, b *bench, members []*account) error {
	n := len(members)
	tag := fmt.Sprintf("bigroom-%d", n)
	rooms, err := b.createRooms(ctx, tag, members[:1], 1)
	if err != nil {
		return err
	}
	room := rooms[0]
	if err := b.joinAll(ctx, tag, members[1:], room, s.c); err != nil {
		return err
	}
	if err := b.awaitMembers(ctx, members[0], room, n); err != nil {
		return err
	}
	online, err := s.goOnline(ctx, b, tag, members[n-min(s.online, n):], room)
	if err != nil {
		return err
	}
	if err := s.measureSends(ctx, b, n, members[:min(s.senders, n)], online, room); err != nil {
		return err
	}
	// The last member is in no smaller room: its sync holds this room only.
	acc := members[n-1]
	fid, err := b.c.uploadFilter(ctx, acc, map[string]any{"room": map[string]any{"state": map[string]any{"lazy_load_members": true}}})
	if err != nil {
		return err
	}
	m := b.measure("bigroom", fmt.Sprintf("members=%d initial sync", n), "syncs",
		"GET /sync without since, lazy-loading members, full response read",
		map[string]any{"members": n, "repeat": s.repeat})
	return timeInitialSyncs(ctx, b, m, acc, fid, s.repeat)
}

// goOnline gives every online member a filter on the room and a since
// token from an initial sync, so its long-polls see only new messages.
// The initial sync asks for one event: the room's history is its joins,
// and a server searching them for messages would only slow the set-up.
func (s *bigroomScenario) goOnline(ctx context.Context, b *bench, tag string, accs []*account, room string) ([]*onlineMember, error) {
	online := make([]*onlineMember, len(accs))
	filter := lightFilter([]string{room}, 1000, matrixrules.MRoomMessage)
	step := b.setupStep(tag, "initial syncs of the online members", len(accs))
	defer step.stop()
	err := forEach(ctx, len(accs), s.c, func(ctx context.Context, i int) error {
		fid, err := b.c.uploadFilter(ctx, accs[i], filter)
		if err != nil {
			return err
		}
		first, err := b.c.uploadFilter(ctx, accs[i], lightFilter([]string{room}, 1))
		if err != nil {
			return err
		}
		var initial syncResponse
		if _, err := b.c.sync(ctx, accs[i], syncParams{filter: first}, &initial); err != nil {
			return fmt.Errorf("online member's initial sync: %w", err)
		}
		online[i] = &onlineMember{acc: accs[i], room: room, filter: fid, since: initial.NextBatch}
		step.done.Add(1)
		return nil
	})
	return online, err
}

// measureSends is the measured phase: senders send while the online
// members long-poll, then the long-polls get -wait to catch up.
func (s *bigroomScenario) measureSends(ctx context.Context, b *bench, size int, senders []*account, online []*onlineMember, room string) error {
	log := &sentLog{}
	m := b.measure("bigroom", fmt.Sprintf("members=%d", size), "events", "PUT /send until 200",
		map[string]any{"members": size, "online": len(online), "senders": len(senders), "t": s.dur.String(), "rate": s.rate})
	recvCtx, stopRecv := context.WithCancel(ctx)
	defer stopRecv()
	var syncs atomic.Int64
	var wg sync.WaitGroup
	for _, o := range online {
		wg.Go(func() { o.poll(recvCtx, b, m, log, &syncs) })
	}
	sendStart := time.Now()
	stopped := s.send(ctx, b, m, log, senders, room)
	sending := time.Since(sendStart)
	acked := log.nAcked.Load()
	caughtUp := func() bool {
		for _, o := range online {
			if o.distinct.Load() < acked {
				return false
			}
		}
		return true
	}
	drain := waitUntil(ctx, s.wait, caughtUp)
	stopRecv()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		m.abort()
		return err
	}
	extra := tallyDeliveries(log, online)
	extra["sending_events_per_s"] = math.Round(float64(acked)/sending.Seconds()*10) / 10
	extra["catch_up_after_sending"] = drain.Round(time.Millisecond).String()
	extra["sync_responses"] = syncs.Load()
	if acked > 0 {
		extra["syncs_per_event"] = math.Round(float64(syncs.Load())/float64(acked)*100) / 100
	}
	if stopped > 0 {
		extra["senders_stopped_after_errors"] = stopped
	}
	return m.finish(extra)
}

// send runs the senders for -t, at -rate in total when set, and returns
// how many gave up after repeated errors.
func (s *bigroomScenario) send(ctx context.Context, b *bench, m *measurement, log *sentLog, senders []*account, room string) int64 {
	timed, cancel := context.WithTimeout(ctx, s.dur)
	defer cancel()
	var tick <-chan time.Time
	if s.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
		defer t.Stop()
		tick = t.C
	}
	var stopped atomic.Int64
	_ = forEach(timed, len(senders), len(senders), func(ctx context.Context, w int) error {
		for failures := 0; ctx.Err() == nil; {
			if tick != nil {
				select {
				case <-tick:
				case <-ctx.Done():
					return nil
				}
			}
			i := log.begin()
			res, err := b.c.sendText(ctx, senders[w], room, b.nextTxn(), b.probeBody(i))
			if err != nil && ctx.Err() != nil {
				return nil // cut off by the deadline: not the server's fault
			}
			m.rec.record(res.latency, err)
			if err == nil {
				log.ack(i)
				failures = 0
			} else if failures++; failures >= maxConsecutiveErrors {
				stopped.Add(1)
				return nil
			}
		}
		return nil
	})
	return stopped.Load()
}
