package gomatrixserverlib

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Axon patch: onEveryCore calls f(i) for every i in [0, n) on
// GOMAXPROCS goroutines; f must write only its own slot.
func onEveryCore(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
