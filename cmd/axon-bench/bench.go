package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// bench is the state shared by all scenarios of one run.
type bench struct {
	opts     globalOpts
	c        *client
	out      io.Writer // summaries
	errw     io.Writer // progress line and notes
	progress bool      // draw the live line on errw
	runID    string    // makes transaction IDs and message bodies unique per run
	txn      atomic.Int64
	results  []result
}

func newBench(opts globalOpts, out, errw io.Writer, progress bool) *bench {
	return &bench{
		opts:     opts,
		c:        newClient(opts.HS, opts.Timeout),
		out:      out,
		errw:     errw,
		progress: progress && !opts.Quiet,
		runID:    randomHex(4),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// nextTxn returns a transaction ID unique within the run.
func (b *bench) nextTxn() string {
	return fmt.Sprintf("axb.%s.%d", b.runID, b.txn.Add(1))
}

// showProgress starts a live line (or a no-op when disabled).
func (b *bench) showProgress(status func(elapsed time.Duration) string) *progress {
	return startProgress(b.progress, b.errw, status)
}

// measurement is the timed phase of a scenario; setup happens before it.
type measurement struct {
	b      *bench
	res    result
	rec    recorder
	t0     time.Time
	base   int64 // client 429 count when the phase started
	prog   *progress
	peak   bool      // VmHWM reset succeeded
	cpu0   *cpuTimes // server CPU when the phase started (--pid)
	cpuErr error
}

// measure starts a phase: resets the server's peak RSS (with --pid) and
// draws "<title>: 12.3s 24,512 events 1,990/s errors 0" until finish.
func (b *bench) measure(scenario, variant, unit, latencyOf string, params map[string]any) *measurement {
	m := &measurement{b: b, res: result{
		Scenario: scenario, Variant: variant, Homeserver: b.opts.HS,
		Params: params, Unit: unit, LatencyOf: latencyOf,
	}}
	if b.opts.PID > 0 {
		m.peak = resetPeakRSS(b.opts.PID)
		if c, err := readCPU(b.opts.PID); err != nil {
			m.cpuErr = err
		} else {
			m.cpu0 = &c
		}
	}
	m.base = b.c.rateLimited.Load()
	m.t0 = time.Now()
	m.res.StartedAt = m.t0.UTC()
	title := m.res.title()
	m.prog = b.showProgress(func(el time.Duration) string {
		ok := m.rec.ok.Load()
		return fmt.Sprintf("%s: %.1fs %s %s %s/s errors %s", title, el.Seconds(),
			commas(ok), unit, rate(float64(ok)/el.Seconds()), commas(m.rec.failed.Load()))
	})
	return m
}

// abort ends a phase that failed fatally; nothing is reported.
func (m *measurement) abort() { m.prog.Stop() }

// finish ends the phase, then reports it: summary on stdout, --json file,
// server memory and CPU. extra holds scenario-specific figures.
func (m *measurement) finish(extra map[string]any) error {
	elapsed := time.Since(m.t0)
	var cpu1 cpuTimes
	if m.cpu0 != nil {
		cpu1, m.cpuErr = readCPU(m.b.opts.PID)
	}
	m.prog.Stop()
	b := m.b
	r := &m.res
	r.DurationS = elapsed.Seconds()
	r.OK = m.rec.ok.Load()
	r.Errors = m.rec.failed.Load()
	r.PerSecond = float64(r.OK) / elapsed.Seconds()
	r.RateLimited = b.c.rateLimited.Load() - m.base
	r.Latency = summarize(m.rec.latencies())
	r.ErrorSample = m.rec.errors()
	r.Extra = extra
	if b.opts.PID > 0 {
		mem, err := readMem(b.opts.PID)
		if err != nil {
			r.MemoryError = err.Error()
		} else {
			mem.PeakSince = "process start"
			if m.peak {
				mem.PeakSince = "phase"
			}
			r.Memory = &mem
		}
		if m.cpuErr != nil {
			r.CPUError = m.cpuErr.Error()
		} else {
			use := cpuBetween(*m.cpu0, cpu1, r.DurationS, r.OK)
			r.CPU = &use
		}
	}
	r.print(b.out)
	b.results = append(b.results, *r)
	if b.opts.JSON != "" {
		if err := writeResults(b.opts.JSON, b.results); err != nil {
			return fmt.Errorf("writing --json: %w", err)
		}
	}
	return nil
}
