package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// mixedScenario measures whether /sync keeps up under sustained mixed
// load: S senders write as fast as they are answered into R rooms while L
// clients long-poll /sync in all of them, one worker registers users and
// one changes display names (a member event in every room of the user).
// Every message carries its send time; the delivery lag of each message
// to each receiver (send start → returned by that receiver's /sync) is
// the latency recorded. A server whose consumers fall behind shows it
// here as lag growing over the run.
type mixedScenario struct {
	senders, receivers, rooms int
	dur, wait                 time.Duration
}

func newMixedScenario() *mixedScenario {
	return &mixedScenario{senders: 10, receivers: 50, rooms: 5, dur: 60 * time.Second, wait: 30 * time.Second}
}

func (s *mixedScenario) name() string { return "mixed" }
func (s *mixedScenario) summary() string {
	return "senders, long-polling receivers, registrations and profile changes at once: delivery lag"
}

func (s *mixedScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.senders, "s", s.senders, "concurrent senders (one user each)")
	fs.IntVar(&s.receivers, "l", s.receivers, "long-polling /sync receivers, each in every room")
	fs.IntVar(&s.rooms, "r", s.rooms, "rooms the senders write into")
	fs.Var(secondsFlag{&s.dur}, "t", "`duration` of the load, in seconds or like 60s")
	fs.Var(secondsFlag{&s.wait}, "wait", "after the load, how long receivers may catch up before the rest counts as lost")
}

func (s *mixedScenario) validate() error {
	if s.dur <= 0 || s.wait <= 0 {
		return errors.New("-t and -wait must be positive")
	}
	return positive(map[string]int{"s": s.senders, "l": s.receivers, "r": s.rooms})
}

func (s *mixedScenario) run(ctx context.Context, b *bench) error {
	users, err := b.newUsers(ctx, "mixed", s.senders+s.receivers, 20)
	if err != nil {
		return err
	}
	senders, receivers := users[:s.senders], users[s.senders:]
	creators := make([]*account, s.rooms)
	for i := range creators {
		creators[i] = senders[i%len(senders)]
	}
	rooms, err := b.createRooms(ctx, "mixed", creators, s.rooms)
	if err != nil {
		return err
	}
	for _, room := range rooms {
		if err := b.joinAll(ctx, "mixed", users, room, 20); err != nil {
			return err
		}
	}
	if err := b.awaitRooms(ctx, receivers[len(receivers)-1], len(rooms)); err != nil {
		return err
	}
	filter := lightFilter(rooms, 1000, matrixrules.MRoomMessage)
	m := b.measure("mixed", "", "deliveries", "send start → seen in a receiver's /sync",
		map[string]any{"s": s.senders, "l": s.receivers, "r": s.rooms, "t": s.dur.String(), "wait": s.wait.String()})

	var sent atomic.Int64
	seen := make([]atomic.Int64, len(receivers))
	recvCtx, stopRecv := context.WithCancel(ctx)
	defer stopRecv()
	var wg sync.WaitGroup
	for i, r := range receivers {
		fid, err := b.c.uploadFilter(ctx, r, filter)
		if err != nil {
			m.abort()
			return err
		}
		var initial syncResponse
		if _, err := b.c.sync(ctx, r, syncParams{filter: fid}, &initial); err != nil {
			m.abort()
			return fmt.Errorf("receiver's initial sync: %w", err)
		}
		wg.Go(func() { s.receive(recvCtx, b, m, r, fid, initial.NextBatch, &seen[i]) })
	}

	load, stopLoad := context.WithTimeout(ctx, s.dur)
	defer stopLoad()
	var acks []time.Duration
	var acksMu sync.Mutex
	var loadWG sync.WaitGroup
	var registered, profiles atomic.Int64
	for w, sender := range senders {
		room := rooms[w%len(rooms)]
		loadWG.Go(func() {
			for load.Err() == nil {
				res, err := b.c.sendText(load, sender, room, b.nextTxn(), b.mixedBody(time.Now()))
				if err != nil {
					if load.Err() == nil {
						m.rec.failure(fmt.Errorf("send: %w", err))
					}
					continue
				}
				sent.Add(1)
				acksMu.Lock()
				acks = append(acks, res.latency)
				acksMu.Unlock()
			}
		})
	}
	loadWG.Go(func() {
		for i := 0; load.Err() == nil; i++ {
			if _, _, err := b.register(load, b.localpart("mixed-reg", i)); err == nil {
				registered.Add(1)
			}
		}
	})
	loadWG.Go(func() {
		for i := 0; load.Err() == nil; i++ {
			a := senders[i%len(senders)]
			_, err := b.c.do(load, request{method: http.MethodPut, token: a.AccessToken,
				path: csPrefix + "/profile/" + url.PathEscape(a.UserID) + "/displayname",
				body: map[string]string{"displayname": fmt.Sprintf("mixed %d", i)}})
			if err == nil {
				profiles.Add(1)
			}
		}
	})
	loadWG.Wait()
	total := sent.Load()
	caughtUp := func() bool {
		for i := range seen {
			if seen[i].Load() < total {
				return false
			}
		}
		return true
	}
	catchUp := waitUntil(ctx, s.wait, caughtUp)
	stopRecv()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		m.abort()
		return err
	}
	lost := int64(0)
	for i := range seen {
		lost += max(total-seen[i].Load(), 0)
	}
	return m.finish(map[string]any{
		"messages_sent":       total,
		"messages_per_s":      float64(total) / s.dur.Seconds(),
		"send_ack_ms":         summarize(acks),
		"registrations":       registered.Load(),
		"profile_changes":     profiles.Load(),
		"lost_deliveries":     lost,
		"catch_up_after_load": catchUp.Round(time.Millisecond).String(),
		"receivers_caught_up": caughtUp(),
		"expected_deliveries": total * int64(len(receivers)),
	})
}

func (b *bench) mixedBody(t time.Time) string {
	return fmt.Sprintf("axb-mixed %s %d", b.runID, t.UnixNano())
}

// receive long-polls /sync and records each message's delivery lag.
func (s *mixedScenario) receive(ctx context.Context, b *bench, m *measurement, r *account, filter, since string, seen *atomic.Int64) {
	prefix := fmt.Sprintf("axb-mixed %s ", b.runID)
	for ctx.Err() == nil {
		var sr syncResponse
		_, err := b.c.sync(ctx, r, syncParams{since: since, filter: filter, timeout: longPoll}, &sr)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				m.rec.failure(fmt.Errorf("sync: %w", err))
				_ = sleep(ctx, 250*time.Millisecond)
			}
			continue
		}
		since = sr.NextBatch
		for _, room := range sr.Rooms.Join {
			for _, ev := range room.Timeline.Events {
				rest, ok := strings.CutPrefix(ev.Content.Body, prefix)
				if !ok {
					continue
				}
				ns, err := strconv.ParseInt(rest, 10, 64)
				if err != nil {
					continue
				}
				m.rec.success(now.Sub(time.Unix(0, ns)))
				seen.Add(1)
			}
		}
	}
}
