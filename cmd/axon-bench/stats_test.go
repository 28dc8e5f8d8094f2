package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func msList(vals ...int) []time.Duration {
	out := make([]time.Duration, len(vals))
	for i, v := range vals {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"single", msList(7), 99, 7 * time.Millisecond},
		{"p0 is min", msList(10, 20, 30, 40), 0, 10 * time.Millisecond},
		{"p50 of 4", msList(10, 20, 30, 40), 50, 20 * time.Millisecond},
		{"p99 of 4", msList(10, 20, 30, 40), 99, 40 * time.Millisecond},
		{"p100 is max", msList(10, 20, 30, 40), 100, 40 * time.Millisecond},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p99.9 of 100", hundred, 99.9, 100 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

func TestSummarizeSortsAndDoesNotMutate(t *testing.T) {
	in := msList(40, 10, 30, 20)
	s := summarize(in)
	if s.Count != 4 || s.Min != 10 || s.Max != 40 || s.Mean != 25 || s.P50 != 20 || s.P99 != 40 {
		t.Errorf("summarize = %+v", s)
	}
	if in[0] != 40*time.Millisecond {
		t.Error("summarize sorted its input in place")
	}
	if summarize(nil) != nil {
		t.Error("summarize(nil) should be nil so JSON omits it")
	}
}

func TestRecorderKeepsFewDistinctErrors(t *testing.T) {
	var r recorder
	r.record(time.Millisecond, nil)
	for i := range 20 {
		r.record(0, errors.New("boom"))
		r.record(0, errors.New(string(rune('a'+i))))
	}
	if r.ok.Load() != 1 || r.failed.Load() != 40 {
		t.Errorf("ok=%d failed=%d", r.ok.Load(), r.failed.Load())
	}
	if got := r.errors(); len(got) != maxErrorSamples || got[0] != "boom" || got[1] != "a" {
		t.Errorf("error samples = %q", got)
	}
}

func TestCommas(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 24512: "24,512", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	const status = "Name:\taxon\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\nThreads:\t12\n"
	m, err := parseProcStatus(strings.NewReader(status))
	if err != nil || m.PeakRSSKB != 123456 || m.RSSKB != 100000 {
		t.Errorf("parseProcStatus = %+v, %v", m, err)
	}
	if _, err := parseProcStatus(strings.NewReader("Name:\tkthreadd\n")); err == nil {
		t.Error("want an error when VmHWM/VmRSS are missing")
	}
}

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	const stat = "4242 (axon (x) y) S 1 4242 4242 0 -1 4194304 900 0 0 0 1234 567 0 0 20 0 12 0 100 1000000 2000 18446744073709551615\n"
	c, err := parseProcStat(stat)
	if err != nil || c.user != 12.34 || c.system != 5.67 {
		t.Errorf("parseProcStat = %+v, %v; want user 12.34 s, system 5.67 s", c, err)
	}
	for _, bad := range []string{"4242 axon S 1", "4242 (axon) S 1 2 3", "4242 (axon) S 1 4242 4242 0 -1 4194304 900 0 0 0 x 567 0"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q): want an error", bad)
		}
	}
}

func TestCPUBetween(t *testing.T) {
	u := cpuBetween(cpuTimes{user: 10, system: 2}, cpuTimes{user: 13, system: 3}, 2, 8000)
	if u.UserS != 3 || u.SystemS != 1 || u.Cores != 2 || u.PerUnitUS != 500 {
		t.Errorf("cpuBetween = %+v, want 3 s user, 1 s system, 2 cores, 500 µs per unit", u)
	}
	if u := cpuBetween(cpuTimes{}, cpuTimes{user: 1}, 0, 0); u.PerUnitUS != 0 || u.Cores != 0 {
		t.Errorf("empty phase: %+v, want zero rates", u)
	}
}
