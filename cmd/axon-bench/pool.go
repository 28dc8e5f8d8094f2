package main

import (
	"context"
	"sync"
	"sync/atomic"
)

// forEach calls fn for every i in [0,n) on up to c goroutines. The first
// error cancels the remaining work and is returned, so fn should count
// tolerable failures itself and return only errors that must stop the run.
func forEach(ctx context.Context, n, c int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(min(c, n), 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
