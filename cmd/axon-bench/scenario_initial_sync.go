package main

import (
	"context"
	"flag"
	"slices"
)

// initialSyncScenario measures the initial /sync (no since token) of a user
// with R rooms holding K messages each: what a client logging in on a new
// device waits for.
type initialSyncScenario struct{ r, k, repeat, c int }

func newInitialSyncScenario() *initialSyncScenario {
	return &initialSyncScenario{r: 100, k: 50, repeat: 5, c: 16}
}

func (s *initialSyncScenario) name() string { return "initial-sync" }
func (s *initialSyncScenario) summary() string {
	return "time of the initial /sync of a user in R rooms with K messages each"
}

func (s *initialSyncScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.r, "r", s.r, "rooms the user is joined to")
	fs.IntVar(&s.k, "k", s.k, "messages per room")
	fs.IntVar(&s.repeat, "repeat", s.repeat, "initial syncs to time, one after another")
	fs.IntVar(&s.c, "c", s.c, "setup concurrency")
}

func (s *initialSyncScenario) validate() error {
	return positive(map[string]int{"r": s.r, "k": s.k, "repeat": s.repeat, "c": s.c})
}

func (s *initialSyncScenario) run(ctx context.Context, b *bench) error {
	users, err := b.newUsers(ctx, "isync", 1, 1)
	if err != nil {
		return err
	}
	creators := make([]*account, s.r)
	for i := range creators {
		creators[i] = users[0]
	}
	rooms, err := b.createRooms(ctx, "isync", creators, s.c)
	if err != nil {
		return err
	}
	if err := b.fill(ctx, "isync", users, rooms, s.k, s.c); err != nil {
		return err
	}
	if err := b.awaitRooms(ctx, users[0], s.r); err != nil {
		return err
	}

	m := b.measure("initial-sync", "", "syncs", "GET /sync without since, full response read",
		map[string]any{"r": s.r, "k": s.k, "repeat": s.repeat})
	return timeInitialSyncs(ctx, b, m, users[0], "", s.repeat)
}

// timeInitialSyncs does repeat initial /syncs of acc (with filter, when
// not empty) one after another as the phase m, and finishes it.
func timeInitialSyncs(ctx context.Context, b *bench, m *measurement, acc *account, filter string, repeat int) error {
	var runs []float64
	var bytes int
	for range repeat {
		res, err := b.c.sync(ctx, acc, syncParams{filter: filter}, nil)
		if ctx.Err() != nil {
			m.abort()
			return ctx.Err()
		}
		m.rec.record(res.latency, err)
		if err == nil {
			runs = append(runs, ms(res.latency))
			bytes = res.bytes
		}
	}
	extra := map[string]any{"runs_ms": runs, "response_bytes": bytes}
	if len(runs) > 0 {
		sorted := slices.Sorted(slices.Values(runs))
		extra["min_ms"] = sorted[0]
		extra["median_ms"] = sorted[(len(sorted)-1)/2]
	}
	return m.finish(extra)
}
