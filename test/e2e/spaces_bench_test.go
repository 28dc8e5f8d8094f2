package e2e

import (
	"fmt"
	"testing"
	"time"

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

// BenchmarkSpacesHierarchyRemote: a space of A linking 20 spaces of B
// with 2 rooms each; the first walk asks B about each space (first-ms),
// the timed ones use the cached answers.
func BenchmarkSpacesHierarchyRemote(b *testing.B) {
	a, srvB := fedPair(b)
	alice, bob := a.Register("alice", "password123"), srvB.Register("bob", "password123")
	root := roomsCreate(b, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
	for range 20 {
		sp := roomsCreate(b, bob, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
		for range 2 {
			r := roomsCreate(b, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
			spacesLink(b, bob, sp, r, map[string]any{"via": []string{srvB.Cfg.ServerName}})
		}
		spacesLink(b, alice, root, sp, map[string]any{"via": []string{srvB.Cfg.ServerName}})
	}
	walk := func() {
		h, err := alice.Hierarchy(roomsCtx, root, &mautrix.ReqHierarchy{Limit: 100})
		if err != nil || len(h.Rooms) != 61 {
			b.Fatalf("hierarchy: %v, %d rooms", err, len(h.Rooms))
		}
	}
	start := time.Now()
	walk()
	first := time.Since(start)
	b.ResetTimer()
	for range b.N {
		walk()
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
}
