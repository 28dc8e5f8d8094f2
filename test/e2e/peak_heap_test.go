package e2e

import (
	"bytes"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"
)

// peakHeapProfile, when $AXON_BENCH_MEMPROFILE is set, samples the heap
// every 50 ms during the measured phase and writes the heap profile taken
// when it was largest (a profile at the end would show what is left, not
// what made the peak). It returns the function that ends it.
func peakHeapProfile(t testing.TB) func() {
	path := os.Getenv("AXON_BENCH_MEMPROFILE")
	if path == "" {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	var best bytes.Buffer
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak+peak/20 {
				peak = v
				best.Reset()
				_ = pprof.Lookup("heap").WriteTo(&best, 0)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		must(t, os.WriteFile(path, best.Bytes(), 0o644))
	}
}
