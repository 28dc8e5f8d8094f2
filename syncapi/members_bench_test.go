package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/syncapi/types"
)

// memberCounts are the room sizes the growth benchmarks compare: the cost
// per message should barely grow from a DM to a large public room.
var memberCounts = []int{2, 1_000, 10_000}

// roomWithMembers builds a room of n local members, @u0 the creator.
// The joins reach the consumer as one state delta (as state learned
// over federation does), so set-up does not evaluate every member's push
// rules for every join.
func roomWithMembers(b *testing.B, n int) (*SyncAPI, *testRoom) {
	b.Helper()
	s := newTestSyncAPI(b, filepath.Join(b.TempDir(), "bench.db"))
	return s, bigRoom(b, s, "!bench:test", n)
}

// bigRoom makes a room of n local members @u0..@u{n-1} on s, @u0 the
// creator, the others joined as one state delta.
func bigRoom(tb testing.TB, s *SyncAPI, id string, n int) *testRoom {
	r := newTestRoom(tb, id)
	r.create(s, "@u0:test")
	if n < 2 {
		return r
	}
	last := r.event("@u0:test", "m.room.topic", sk(""), map[string]any{"topic": "members"})
	for i := 1; i < n; i++ {
		u := fmt.Sprintf("@u%d:test", i)
		ev := r.event(u, "m.room.member", sk(u), map[string]any{"membership": "join"})
		last.AddsStateEventIDs = append(last.AddsStateEventIDs, ev.EventID)
		last.AddedStateEvents = append(last.AddedStateEvents, ev.Event)
	}
	s.mustApply(tb, 0, last)
	return r
}

// BenchmarkConsumeMessageMembers is the syncapi consumer's cost of one
// message (stored, push rules of every other member, notification
// counts) in rooms of growing size; a few senders take turns.
func BenchmarkConsumeMessageMembers(b *testing.B) {
	for _, n := range memberCounts {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			r.say(s, "@u0:test", "warm-up") // loads every member's push rules
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				r.say(s, fmt.Sprintf("@u%d:test", i%min(n, 10)), fmt.Sprintf("message %d", i))
				i++
			}
			cpu.report(b)
		})
	}
}

// BenchmarkConsumeJoinMembers is the syncapi consumer's cost of one more
// member joining a room of growing size (the room's state cached,
// changed and evaluated for push): it should follow the change, not the
// room's state.
func BenchmarkConsumeJoinMembers(b *testing.B) {
	for _, n := range memberCounts {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			r.say(s, "@u0:test", "warm-up")
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				r.join(s, fmt.Sprintf("@joiner%d:test", i))
				i++
			}
			cpu.report(b)
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
			cpu := startCPU()
			for b.Loop() {
				resp := testSync(b, s, user, nil, f)
				if _, err := json.Marshal(resp); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkIncrementalSyncMembers is the /sync a parked long-poll makes
// when one message arrives (device lists and presence included), for a
// member of one large room: it should follow what changed, not the room.
func BenchmarkIncrementalSyncMembers(b *testing.B) {
	for _, n := range memberCounts {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			s.keys = noKeys{}
			r.say(s, "@u0:test", "before")
			since := s.notif.Current()
			r.say(s, "@u0:test", "the news")
			user := fmt.Sprintf("@u%d:test", n-1)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				resp := testSync(b, s, user, &since, nil)
				if _, err := json.Marshal(resp); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkIncrementalSyncNewMessage is a parked long-poll's /sync as
// a room in use sees it: a new message every time, so the unread counts
// have one more notification to count. cpu-µs/op is the /sync's alone
// (the message's consumer work is left out).
func BenchmarkIncrementalSyncNewMessage(b *testing.B) {
	for _, n := range memberCounts[:2] {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			s, r := roomWithMembers(b, n)
			s.keys = noKeys{}
			r.say(s, "@u0:test", "before")
			since := s.notif.Current()
			user := fmt.Sprintf("@u%d:test", n-1)
			b.ReportAllocs()
			var cpu time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				r.say(s, "@u0:test", fmt.Sprintf("news %d", i))
				i++
				b.StartTimer()
				start := processCPU()
				resp := testSync(b, s, user, &since, nil)
				if _, err := json.Marshal(resp); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - start
				since = s.notif.Current()
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// noKeys is a keyserver with no keys, so /sync computes device lists.
type noKeys struct{}

func (noKeys) KeyCounts(context.Context, matrixid.UserID, string) (*ksapi.KeyCounts, error) {
	return &ksapi.KeyCounts{}, nil
}

// cpuClock is the process's user+system CPU time: on a shared, loaded
// machine CPU per operation varies far less than wall time per operation.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds cpu-µs/op (all goroutines: consumer, SQLite writer, GC).
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64((processCPU()-c.start).Microseconds())/float64(b.N), "cpu-µs/op")
}
