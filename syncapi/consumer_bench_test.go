package syncapi

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkConsumeMessage is the consumer's cost for one message in a room
// of benchMembers local members: store, state cache, push rules for every member
// and the notification rows, in one transaction.
func BenchmarkConsumeMessage(b *testing.B) {
	s := newTestSyncAPI(b, filepath.Join(b.TempDir(), "bench.db"))
	r := newTestRoom(b, "!bench:test")
	r.create(s, "@u0:test")
	for i := 1; i < benchMembers; i++ {
		r.join(s, fmt.Sprintf("@u%d:test", i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.say(s, fmt.Sprintf("@u%d:test", i%benchMembers), fmt.Sprintf("message %d", i))
		i++
	}
}

const benchMembers = 500
