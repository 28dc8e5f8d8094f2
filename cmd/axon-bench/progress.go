package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const progressInterval = 250 * time.Millisecond

// progress redraws one status line on a terminal until stopped. A disabled
// progress is a no-op so callers don't need to check.
type progress struct {
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// startProgress calls status about 4x/s with the elapsed time and prints the
// result over the previous line.
func startProgress(enabled bool, w io.Writer, status func(elapsed time.Duration) string) *progress {
	p := &progress{stop: make(chan struct{}), done: make(chan struct{})}
	if !enabled {
		close(p.done)
		return p
	}
	start := time.Now()
	go func() {
		defer close(p.done)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintf(w, "\r%s\x1b[K", status(time.Since(start)))
			case <-p.stop:
				fmt.Fprint(w, "\r\x1b[K") // leave the terminal clean for the summary
				return
			}
		}
	}()
	return p
}

func (p *progress) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// isTerminal reports whether f is a character device, i.e. a live line
// would be seen rather than pollute a log file.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
