// Package testutil holds the helpers every package's tests share. It
// imports nothing of Axon, so any package (internal/ or a component) can
// use it.
package testutil

import (
	"testing"
	"time"
)

// Eventually calls cond until it returns true and fails t if that has not
// happened within timeout, naming what it waited for. It is the one way
// tests wait for something asynchronous: it returns as soon as cond holds
// (no fixed sleep that is too long on a fast machine and too short on a
// loaded one), and a behaviour that never happens fails instead of passing
// by luck. Call it from the test's goroutine (it calls t.Fatalf).
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// Within polls cond like Eventually but reports the outcome instead of
// failing, for the few callers that must clean up or add context first.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
	return true
}
