package testutil

import "sync"

// Concurrently runs fn(0..n-1) on n goroutines released together (to
// provoke races) and returns the errors they reported, so the caller
// fails the test on its own goroutine.
func Concurrently(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return errs
}
