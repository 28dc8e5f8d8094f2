package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
)

// memberCounts are the room sizes the growth benchmarks compare: the cost
// per message should barely grow from a DM to a large public room.
var memberCounts = []int{2, 1_000, 10_000}

// roomWithMembers builds a room of n local members, @u0 the creator,
// applying the joins in consumer-sized batches to keep set-up short.
func roomWithMembers(b *testing.B, n int) (*SyncAPI, *testRoom) {
	b.Helper()
	s := newTestSyncAPI(b, filepath.Join(b.TempDir(), "bench.db"))
	r := newTestRoom(b, "!bench:test")
	r.create(s, "@u0:test")
	batch := make([]*rsapi.OutputEvent, 0, roomEventBatch)
	flush := func() {
		if err := s.applyRoomOutputs(context.Background(), batch, 0); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 1; i < n; i++ {
		user := fmt.Sprintf("@u%d:test", i)
		ev := r.event(user, "m.room.member", sk(user), map[string]any{"membership": "join"})
		batch = append(batch, &rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: ev})
		if len(batch) == roomEventBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return s, r
}

// BenchmarkConsumeMessageMembers is the syncapi consumer's cost of one
// message (stored, push rules of every other member, notification
// counts) in rooms of growing size; a few senders take turns.
func BenchmarkConsumeMessageMembers(b *testing.B) {
	for _, n := range memberCounts {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.say(s, fmt.Sprintf("@u%d:test", i%min(n, 10)), fmt.Sprintf("message %d", i))
				i++
			}
		})
	}
}

// BenchmarkInitialSyncLazyMembers is an initial /sync (built and encoded)
// of a member of one large room with lazy-loaded members: the response
// carries only the timeline's senders, so it should not grow with the room.
func BenchmarkInitialSyncLazyMembers(b *testing.B) {
	for _, n := range memberCounts {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			for i := 0; i < 20; i++ {
				r.say(s, fmt.Sprintf("@u%d:test", i%min(n, 5)), fmt.Sprintf("message %d", i))
			}
			f := &types.Filter{}
			f.Room.State.LazyLoadMembers = true
			f.Room.Timeline.LazyLoadMembers = true
			user := fmt.Sprintf("@u%d:test", n-1)
			b.ReportAllocs()
			for b.Loop() {
				resp := testSync(b, s, user, nil, f)
				if _, err := json.Marshal(resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
