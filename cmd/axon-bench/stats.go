package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorSamples is how many distinct error messages a recorder keeps to
// show the user what went wrong without flooding the summary.
const maxErrorSamples = 5

// recorder collects the outcome of each operation of a measured phase. It is
// safe for concurrent use; counters are atomic so the progress line can read
// them without taking the lock.
type recorder struct {
	ok     atomic.Int64
	failed atomic.Int64

	mu         sync.Mutex
	samples    []time.Duration
	errSamples []string
}

func (r *recorder) success(d time.Duration) {
	r.mu.Lock()
	r.samples = append(r.samples, d)
	r.mu.Unlock()
	r.ok.Add(1)
}

func (r *recorder) failure(err error) {
	r.failed.Add(1)
	msg := err.Error()
	r.mu.Lock()
	if len(r.errSamples) < maxErrorSamples && !slices.Contains(r.errSamples, msg) {
		r.errSamples = append(r.errSamples, msg)
	}
	r.mu.Unlock()
}

// record is success or failure depending on err.
func (r *recorder) record(d time.Duration, err error) {
	if err != nil {
		r.failure(err)
		return
	}
	r.success(d)
}

// latencies returns a copy of the successful samples.
func (r *recorder) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errSamples)
}

// latencySummary is in milliseconds, the unit people compare servers in.
type latencySummary struct {
	Count int     `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// summarize returns nil for no samples so JSON omits the block entirely.
func summarize(samples []time.Duration) *latencySummary {
	if len(samples) == 0 {
		return nil
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return &latencySummary{
		Count: len(s),
		Min:   ms(s[0]),
		Mean:  ms(sum / time.Duration(len(s))),
		P50:   ms(percentile(s, 50)),
		P95:   ms(percentile(s, 95)),
		P99:   ms(percentile(s, 99)),
		Max:   ms(s[len(s)-1]),
	}
}

// percentile uses the nearest-rank method on sorted samples: the result is
// always an observed value, never an interpolation.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*1000) / 1000
}

func (l *latencySummary) String() string {
	return fmt.Sprintf("p50 %.1f/p95 %.1f/p99 %.1f ms", l.P50, l.P95, l.P99)
}

// waitUntil polls done every 20 ms until it holds, d has passed or ctx
// ends, and returns how long it waited.
func waitUntil(ctx context.Context, d time.Duration, done func() bool) time.Duration {
	start := time.Now()
	for deadline := start.Add(d); !done() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}
