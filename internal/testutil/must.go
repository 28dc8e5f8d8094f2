package testutil

import "testing"

// Must fails t at once on a set-up error, so a test never goes on from a
// step that did not happen.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
