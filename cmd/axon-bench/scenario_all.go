package main

import (
	"context"
	"flag"
	"fmt"
	"time"
)

// allScenario runs every scenario with moderate sizes: a few minutes in
// total against a healthy server, enough to compare servers side by side.
type allScenario struct{}

func (allScenario) name() string          { return "all" }
func (allScenario) summary() string       { return "every scenario in sequence with moderate sizes" }
func (allScenario) bind(fs *flag.FlagSet) {}
func (allScenario) validate() error       { return nil }

func (allScenario) run(ctx context.Context, b *bench) error {
	steps := []scenario{
		&registerScenario{n: 200, c: 20},
		&sendScenario{c: 20, dur: 15 * time.Second, rooms: "both", maxEvents: 1_000_000},
		&syncLatencyScenario{m: 100, receivers: 1, wait: 10 * time.Second},
		&initialSyncScenario{r: 50, k: 20, repeat: 5, c: 16},
		&herdScenario{h: 100, members: 100, events: 300, c: 32},
		&mixedScenario{senders: 10, receivers: 50, rooms: 5, dur: 20 * time.Second, wait: 30 * time.Second},
		&bigroomScenario{sizes: []int{2, 200}, online: 50, senders: 5, c: 32, repeat: 3, dur: 10 * time.Second, wait: 30 * time.Second},
	}
	for _, sc := range steps {
		if err := sc.run(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", sc.name(), err)
		}
	}
	return nil
}
