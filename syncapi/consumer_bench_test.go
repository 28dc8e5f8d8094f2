package syncapi

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	rsapi "github.com/axon-hs/axon/roomserver/api"
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

// BenchmarkConsumeMessageBatched is BenchmarkConsumeMessage with
// roomEventBatch messages per transaction, as the stream consumer
// applies a backlog; ns/op is per message.
func BenchmarkConsumeMessageBatched(b *testing.B) {
	s := newTestSyncAPI(b, filepath.Join(b.TempDir(), "bench.db"))
	r := newTestRoom(b, "!bench:test")
	r.create(s, "@u0:test")
	for i := 1; i < benchMembers; i++ {
		r.join(s, fmt.Sprintf("@u%d:test", i))
	}
	b.ReportAllocs()
	i := 0
	batch := make([]*rsapi.OutputEvent, 0, roomEventBatch)
	flush := func() {
		if err := s.applyRoomOutputs(context.Background(), batch, uint64(i)); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for b.Loop() {
		ev := r.event(fmt.Sprintf("@u%d:test", i%benchMembers), "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("message %d", i)})
		batch = append(batch, &rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: ev})
		i++
		if len(batch) == roomEventBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
}
