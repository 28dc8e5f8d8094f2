package linger

import (
	"testing"
	"time"
)

// loadOf feeds l batches of size n, one every every, as seen by a batcher.
func loadOf(n int, every time.Duration) *Load {
	l := &Load{}
	t := time.Now()
	for range 32 {
		l.Taken(t, n)
		t = t.Add(every)
	}
	return l
}

func TestBusy(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		every time.Duration
		busy  bool
	}{
		{"one sequential caller, fast", 1, 50 * time.Microsecond, false},
		{"concurrent callers, often", 3, 300 * time.Microsecond, true},
		{"concurrent callers, seldom", 3, 10 * time.Millisecond, false},
	}
	for _, c := range cases {
		if got := loadOf(c.n, c.every).Busy(time.Millisecond); got != c.busy {
			t.Errorf("%s: Busy = %v, want %v", c.name, got, c.busy)
		}
	}
	if (&Load{}).Busy(time.Millisecond) {
		t.Error("a load with no history is busy")
	}
}

func stoppedTimer() *time.Timer {
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	return tm
}

func queued(n int) chan int {
	ch := make(chan int, n)
	for i := range n {
		ch <- i
	}
	return ch
}

func TestGatherTakesWhatArrivesUpToLimit(t *testing.T) {
	busy := loadOf(3, 100*time.Microsecond)
	got, closed := Gather(queued(5), []int{-1}, 10, busy, time.Now(), time.Second, stoppedTimer(), nil)
	if closed || len(got) != 6 {
		t.Fatalf("Gather = %v (closed %v), want the first and all 5 queued", got, closed)
	}
	got, _ = Gather(queued(5), []int{-1}, 3, busy, time.Now(), time.Second, stoppedTimer(), nil)
	if len(got) != 3 {
		t.Fatalf("Gather with limit 3 = %v", got)
	}
}

func TestGatherLeavesQueueWhenNotBusy(t *testing.T) {
	ch := queued(2)
	got, _ := Gather(ch, []int{-1}, 10, loadOf(1, 100*time.Microsecond), time.Now(), time.Second, stoppedTimer(), nil)
	if len(got) != 1 || len(ch) != 2 {
		t.Fatalf("Gather = %v, queue left %d: waited for a sequential caller", got, len(ch))
	}
}

func TestGatherStops(t *testing.T) {
	busy := loadOf(3, 100*time.Microsecond)
	ch := make(chan int)
	close(ch)
	if _, closed := Gather(ch, nil, 10, busy, time.Now(), time.Second, stoppedTimer(), nil); !closed {
		t.Error("closed channel not reported")
	}
	done := make(chan struct{})
	close(done)
	// Nothing arrives: the deadline (an hour) is not what ends the wait.
	if got, closed := Gather(make(chan int), []int{-1}, 10, busy, time.Now(), time.Hour, stoppedTimer(), done); closed || len(got) != 1 {
		t.Errorf("Gather after done = %v, %v", got, closed)
	}
	// No arrival within the gap ends the wait long before the deadline.
	start := time.Now()
	if got, _ := Gather(make(chan int), []int{-1}, 10, busy, start, time.Hour, stoppedTimer(), nil); len(got) != 1 {
		t.Errorf("Gather on an idle channel = %v", got)
	}
	if waited := time.Since(start); waited > time.Minute {
		t.Errorf("waited %v for an idle channel", waited)
	}
	// A deadline already passed takes nothing more.
	if got, _ := Gather(queued(3), []int{-1}, 10, busy, start.Add(-time.Hour), time.Second, stoppedTimer(), nil); len(got) != 1 {
		t.Errorf("Gather past its deadline = %v", got)
	}
}
