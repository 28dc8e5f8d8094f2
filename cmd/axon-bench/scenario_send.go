package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync/atomic"
	"time"
)

// maxConsecutiveErrors stops a sender whose requests all fail, e.g. when
// the server died, instead of spinning until the deadline.
const maxConsecutiveErrors = 100

// sendScenario measures message throughput: C senders, each its own user,
// PUT m.room.message as fast as acknowledged, into one shared room (write
// contention on one room) and/or one room each (rooms in parallel).
type sendScenario struct {
	c         int
	dur       time.Duration
	rooms     string
	maxEvents int
}

func newSendScenario() *sendScenario {
	return &sendScenario{c: 50, dur: 30 * time.Second, rooms: "both", maxEvents: 1_000_000}
}

func (s *sendScenario) name() string    { return "send" }
func (s *sendScenario) summary() string { return "C concurrent senders send messages for T seconds" }

func (s *sendScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.c, "c", s.c, "concurrent senders (one user each)")
	fs.Var(secondsFlag{&s.dur}, "t", "`duration` of each variant, in seconds or like 30s or 2m")
	fs.StringVar(&s.rooms, "rooms", s.rooms, "one (all senders share a room), each (a room per sender) or both")
	fs.IntVar(&s.maxEvents, "max-events", s.maxEvents, "stop a variant after this many send attempts")
}

func (s *sendScenario) validate() error {
	if s.rooms != "one" && s.rooms != "each" && s.rooms != "both" {
		return fmt.Errorf("-rooms %q: want one, each or both", s.rooms)
	}
	if s.dur <= 0 {
		return errors.New("-t must be positive")
	}
	return positive(map[string]int{"c": s.c, "max-events": s.maxEvents})
}

func (s *sendScenario) run(ctx context.Context, b *bench) error {
	users, err := b.newUsers(ctx, "send", s.c, s.c)
	if err != nil {
		return err
	}
	variants := []string{s.rooms}
	if s.rooms == "both" {
		variants = []string{"one", "each"}
	}
	for _, v := range variants {
		rooms, err := s.setupRooms(ctx, b, v, users)
		if err != nil {
			return err
		}
		if err := s.measure(ctx, b, v, users, rooms); err != nil {
			return err
		}
	}
	return nil
}

// setupRooms returns the room each sender writes to.
func (s *sendScenario) setupRooms(ctx context.Context, b *bench, variant string, users []*account) ([]string, error) {
	if variant == "each" {
		return b.createRooms(ctx, "send-each", users, s.c)
	}
	shared, err := b.createRooms(ctx, "send-one", users[:1], 1)
	if err != nil {
		return nil, err
	}
	if err := b.joinAll(ctx, "send-one", users[1:], shared[0], s.c); err != nil {
		return nil, err
	}
	rooms := make([]string, len(users))
	for i := range rooms {
		rooms[i] = shared[0]
	}
	return rooms, nil
}

func (s *sendScenario) measure(ctx context.Context, b *bench, variant string, users []*account, rooms []string) error {
	m := b.measure("send", "rooms="+variant, "events", "PUT /send until 200",
		map[string]any{"c": s.c, "t": s.dur.String(), "rooms": variant})
	timed, cancel := context.WithTimeout(ctx, s.dur)
	defer cancel()
	var attempts, stopped atomic.Int64
	_ = forEach(timed, s.c, s.c, func(ctx context.Context, w int) error {
		for failures := 0; ctx.Err() == nil && attempts.Add(1) <= int64(s.maxEvents); {
			res, err := b.c.sendText(ctx, users[w], rooms[w], b.nextTxn(), "axon-bench "+b.runID)
			if err != nil && ctx.Err() != nil {
				return nil // cut off by the deadline: not the server's fault
			}
			m.rec.record(res.latency, err)
			if err == nil {
				failures = 0
			} else if failures++; failures >= maxConsecutiveErrors {
				stopped.Add(1)
				return nil
			}
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		m.abort()
		return err // interrupted, not finished
	}
	var extra map[string]any
	if n := stopped.Load(); n > 0 {
		extra = map[string]any{"senders_stopped_after_errors": n}
	}
	return m.finish(extra)
}
