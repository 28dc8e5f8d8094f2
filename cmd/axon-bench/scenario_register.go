package main

import (
	"context"
	"errors"
	"flag"
)

// registerScenario measures account creation: N users, C at a time.
type registerScenario struct{ n, c int }

func newRegisterScenario() *registerScenario { return &registerScenario{n: 1000, c: 20} }

func (s *registerScenario) name() string    { return "register" }
func (s *registerScenario) summary() string { return "register N users with concurrency C" }

func (s *registerScenario) bind(fs *flag.FlagSet) {
	fs.IntVar(&s.n, "n", s.n, "users to register")
	fs.IntVar(&s.c, "c", s.c, "concurrent registrations")
}

func (s *registerScenario) validate() error { return positive(map[string]int{"n": s.n, "c": s.c}) }

func (s *registerScenario) run(ctx context.Context, b *bench) error {
	m := b.measure("register", "", "users", "one registration incl. all UIA round trips",
		map[string]any{"n": s.n, "c": s.c, "method": b.registrationMethod()})
	err := forEach(ctx, s.n, s.c, func(ctx context.Context, i int) error {
		_, res, err := b.register(ctx, b.localpart("reg", i))
		if errors.Is(err, errRegistrationRefused) {
			return err // every other user would fail the same way
		}
		m.rec.record(res.latency, err)
		return nil
	})
	if err != nil {
		m.abort()
		return err
	}
	return m.finish(nil)
}
