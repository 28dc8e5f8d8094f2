package testutil

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestWithinReturnsOnceTrue(t *testing.T) {
	var calls atomic.Int32
	if !Within(10*time.Second, func() bool { return calls.Add(1) == 3 }) {
		t.Fatal("condition met on the third call, Within said no")
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times after it held, want 3", n)
	}
}

func TestWithinGivesUp(t *testing.T) {
	start := time.Now()
	if Within(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("never-true condition reported as met")
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("gave up before the timeout")
	}
}

func TestEventuallyFailsTheTest(t *testing.T) {
	ft := &fakeT{}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as it would end a test
		defer close(done)
		Eventually(ft, 10*time.Millisecond, "nothing", func() bool { return false })
	}()
	<-done
	if !ft.failed {
		t.Fatal("Eventually did not fail the test")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func TestConcurrentlyCollectsErrors(t *testing.T) {
	errs := Concurrently(6, func(i int) error {
		if i%2 == 1 {
			return errors.New("odd")
		}
		return nil
	})
	if len(errs) != 3 {
		t.Fatalf("errors %v", errs)
	}
}
