package main

import (
	"context"
	"flag"
	"sync"
	"time"
)

// herdScenario measures a thundering herd: H clients of one big room all do
// their initial /sync at the same moment, as after a server restart or a
// network blip.
type herdScenario struct{ h, members, events, c int }

func newHerdScenario() *herdScenario {
	return &herdScenario{h: 300, members: 500, events: 1000, c: 32}
}

func (s *herdScenario) name() string { return "herd" }
func (s *herdScenario) summary() string {
	return "H clients of a room with M members and E events do an initial /sync at once"
}

func (s *herdScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.h, "h", s.h, "clients (devices logged in round-robin as the members)")
	fs.IntVar(&s.members, "members", s.members, "room members")
	fs.IntVar(&s.events, "events", s.events, "messages in the room")
	fs.IntVar(&s.c, "c", s.c, "setup concurrency")
}

func (s *herdScenario) validate() error {
	return positive(map[string]int{"h": s.h, "members": s.members, "events": s.events, "c": s.c})
}

func (s *herdScenario) run(ctx context.Context, b *bench) error {
	members, err := b.newUsers(ctx, "herd", s.members, s.c)
	if err != nil {
		return err
	}
	rooms, err := b.createRooms(ctx, "herd", members[:1], 1)
	if err != nil {
		return err
	}
	if err := b.joinAll(ctx, "herd", members[1:], rooms[0], s.c); err != nil {
		return err
	}
	if err := b.fill(ctx, "herd", members, rooms, s.events, s.c); err != nil {
		return err
	}
	clients, err := s.login(ctx, b, members)
	if err != nil {
		return err
	}
	if err := b.awaitRooms(ctx, members[len(members)-1], 1); err != nil {
		return err
	}

	// Every client waits at the gate so the requests leave together.
	gate := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(len(clients))
	m := b.measure("herd", "", "syncs", "GET /sync without since, per client",
		map[string]any{"h": s.h, "members": s.members, "events": s.events})
	var opened time.Time
	for _, cl := range clients {
		wg.Go(func() {
			ready.Done()
			<-gate
			res, err := b.c.sync(ctx, cl, syncParams{}, nil)
			m.rec.record(res.latency, err)
		})
	}
	ready.Wait()
	opened = time.Now()
	close(gate)
	wg.Wait()
	allDone := time.Since(opened)
	if err := ctx.Err(); err != nil {
		m.abort()
		return err
	}
	return m.finish(map[string]any{"all_done_ms": ms(allDone)})
}

// login creates one device per client, round-robin over the members.
func (s *herdScenario) login(ctx context.Context, b *bench, members []*account) ([]*account, error) {
	clients := make([]*account, s.h)
	step := b.setupStep("herd", "logging in devices", s.h)
	defer step.stop()
	err := forEach(ctx, s.h, s.c, func(ctx context.Context, i int) error {
		acc, err := b.c.login(ctx, members[i%len(members)].UserID, b.opts.Password)
		clients[i] = acc
		step.done.Add(1)
		return err
	})
	return clients, err
}
