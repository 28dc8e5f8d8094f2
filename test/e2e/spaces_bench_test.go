package e2e

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkSpacesHierarchyLocal: one /hierarchy page (limit 50) of a
// local space with AXON_BENCH_ROOMS children (default 100), each a
// public room.
func BenchmarkSpacesHierarchyLocal(b *testing.B) {
	n := envInt("AXON_BENCH_ROOMS", 100)
	inst := testserver.Start(b, testserver.Options{Backend: benchBackend()})
	alice := inst.Register("alice", "password123")
	space := roomsCreate(b, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
	for i := range n {
		child := roomsCreate(b, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: fmt.Sprintf("room %d", i)})
		if _, err := alice.SendStateEvent(roomsCtx, space, event.StateSpaceChild, string(child), map[string]any{"via": []string{inst.Cfg.ServerName}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		h, err := alice.Hierarchy(roomsCtx, space, &mautrix.ReqHierarchy{Limit: 50})
		if err != nil || len(h.Rooms) != 50 || h.NextBatch == "" {
			b.Fatalf("hierarchy: %v, %d rooms", err, len(h.Rooms))
		}
	}
}
