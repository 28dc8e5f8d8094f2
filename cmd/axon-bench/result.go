package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"
)

// result is one measured phase, printed for humans and written to --json.
type result struct {
	Scenario    string          `json:"scenario"`
	Variant     string          `json:"variant,omitempty"`
	Homeserver  string          `json:"homeserver"`
	StartedAt   time.Time       `json:"started_at"`
	DurationS   float64         `json:"duration_s"`
	Params      map[string]any  `json:"params"`
	Unit        string          `json:"unit"` // what OK counts: users, events, messages, syncs
	OK          int64           `json:"ok"`
	Errors      int64           `json:"errors"`
	PerSecond   float64         `json:"per_second"`
	RateLimited int64           `json:"rate_limited_429"`
	LatencyOf   string          `json:"latency_of"` // what one latency sample measures
	Latency     *latencySummary `json:"latency_ms,omitempty"`
	Extra       map[string]any  `json:"extra,omitempty"`
	ErrorSample []string        `json:"error_samples,omitempty"`
	Memory      *memSample      `json:"server_memory,omitempty"`
	MemoryError string          `json:"server_memory_error,omitempty"`
	CPU         *cpuUse         `json:"server_cpu,omitempty"`
	CPUError    string          `json:"server_cpu_error,omitempty"`
}

func (r *result) title() string {
	if r.Variant != "" {
		return r.Scenario + " (" + r.Variant + ")"
	}
	return r.Scenario
}

// print writes the human summary.
func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s ==\n", r.title())
	fmt.Fprintf(w, "  %-13s %s\n", "params", formatMap(r.Params))
	fmt.Fprintf(w, "  %-13s %s %s in %s = %s %s/s\n", "ok", commas(r.OK), r.Unit, seconds(r.DurationS), rate(r.PerSecond), r.Unit)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "  %-13s p50 %.1f  p95 %.1f  p99 %.1f  (min %.1f, mean %.1f, max %.1f; %s)\n",
			"latency ms", l.P50, l.P95, l.P99, l.Min, l.Mean, l.Max, r.LatencyOf)
	}
	fmt.Fprintf(w, "  %-13s %s\n", "errors", commas(r.Errors))
	for _, e := range r.ErrorSample {
		fmt.Fprintf(w, "  %-13s %s\n", "", e)
	}
	if len(r.Extra) > 0 {
		fmt.Fprintf(w, "  %-13s %s\n", "details", formatMap(r.Extra))
	}
	if r.RateLimited > 0 {
		fmt.Fprintf(w, "  %-13s %s responses were 429 M_LIMIT_EXCEEDED and retried: throughput is capped by\n"+
			"  %-13s server rate limits, not capacity; disable them on the server when benchmarking\n",
			"rate limited", commas(r.RateLimited), "")
	}
	switch {
	case r.CPU != nil:
		c := r.CPU
		fmt.Fprintf(w, "  %-13s %.2f s user + %.2f s system = %.2f cores; %s µs per %s\n", "server CPU",
			c.UserS, c.SystemS, c.Cores, commas(int64(c.PerUnitUS+0.5)), singular(r.Unit))
	case r.CPUError != "":
		fmt.Fprintf(w, "  %-13s unavailable: %s\n", "server CPU", r.CPUError)
	}
	switch {
	case r.Memory != nil:
		fmt.Fprintf(w, "  %-13s peak %s (since %s), now %s\n", "server RSS", mib(r.Memory.PeakRSSKB), r.Memory.PeakSince, mib(r.Memory.RSSKB))
	case r.MemoryError != "":
		fmt.Fprintf(w, "  %-13s unavailable: %s\n", "server RSS", r.MemoryError)
	}
}

// formatMap prints k=v pairs in key order so summaries are stable.
func formatMap(m map[string]any) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if s != "" {
			s += "  "
		}
		s += fmt.Sprintf("%s=%v", k, m[k])
	}
	return s
}

// writeResults rewrites path with all results so far as a JSON array; doing
// it after every phase keeps partial results if a later scenario fails.
func writeResults(path string, results []result) error {
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
