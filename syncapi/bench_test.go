package syncapi

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/axon-hs/axon/syncapi/types"
)

// BenchmarkSyncFanOut measures building and encoding an incremental /sync
// for one member of a busy room after one new message (the per-recipient
// cost of fan-out), and an initial sync of the same room.
func BenchmarkSyncFanOut(b *testing.B) {
	s := newTestSyncAPI(b, filepath.Join(b.TempDir(), "bench.db"))
	r := newTestRoom(b, "!bench:test")
	r.create(s, "@u0:test")
	for i := 1; i < 100; i++ {
		r.join(s, fmt.Sprintf("@u%d:test", i))
	}
	for i := 0; i < 200; i++ {
		r.say(s, fmt.Sprintf("@u%d:test", i%100), fmt.Sprintf("message %d", i))
	}
	since := s.notif.Current()
	r.say(s, "@u1:test", "new")
	b.Run("incremental", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			resp := testSync(b, s, fmt.Sprintf("@u%d:test", i%100), &since, nil)
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("initial", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			resp := testSync(b, s, fmt.Sprintf("@u%d:test", i%100), nil, &types.Filter{})
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
