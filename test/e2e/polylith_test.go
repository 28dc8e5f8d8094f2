package e2e

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestPolylith runs Axon as two processes' worth of components sharing an
// external NATS: "core" runs userapi + roomserver + keyserver, "edge" runs
// the HTTP components (clientapi, syncapi), reaching the core over NATS
// RPC and the streams. A client talking only to the edge registers,
// uploads and queries keys, creates a room, sends and syncs.
func TestPolylith(t *testing.T) {
	if os.Getenv("AXON_SKIP_NATS") == "1" {
		t.Skip("needs the external NATS server")
	}
	prefix := fmt.Sprintf("axonpoly%d", time.Now().UnixNano())
	edgeName := ""
	mk := func(components ...string) *config.Config {
		cfg := testserver.NewConfig(t, testserver.Options{ExternalNATS: true, Configure: func(c *config.Config) {
			c.NATS.Prefix = prefix
			c.Components = components
		}})
		return cfg
	}
	edgeCfg := mk("clientapi", "syncapi")
	coreCfg := mk("userapi", "roomserver", "keyserver")
	// Both must agree on the server name: the edge's client address.
	edgeAddr := testserver.FreeLoopbackAddr(t)
	edgeName = edgeAddr
	edgeCfg.ServerName, edgeCfg.Listeners.Client.Address = edgeName, edgeAddr
	coreCfg.ServerName = edgeName
	coreCfg.Listeners.Client.Address = "127.0.0.1:0"
	// Same signing key for the deployment.
	coreCfg.SigningKeyPath = edgeCfg.ResolvePath("signing.key")
	if err := edgeCfg.LoadSigningKey(); err != nil {
		t.Fatal(err)
	}

	core := testserver.StartWithConfig(t, coreCfg)
	edge := testserver.StartWithConfig(t, edgeCfg)
	if core.Server.Sync != nil || edge.Server.Users != nil || edge.Server.Rooms != nil || edge.Server.Keys != nil {
		t.Fatal("components not split as configured")
	}

	alice := edge.Register("alice", "password123")
	bob := edge.Register("bob", "password123")

	// Keys through the edge's /keys routes, served over RPC by the core.
	ad := newKeysDevice(t, alice)
	up := keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": ad.deviceKeys(t), "one_time_keys": ad.otks(t, "k", 2, false)})
	if up.Status != 200 {
		t.Fatalf("keys/upload through the edge: %d %s", up.Status, up.Raw)
	}
	if counts, _ := up.Body["one_time_key_counts"].(map[string]any); counts["signed_curve25519"] != float64(2) {
		t.Fatalf("one-time key counts: %s", up.Raw)
	}
	q := keysDo(t, bob, "POST", "/keys/query", map[string]any{"device_keys": map[string]any{alice.UserID.String(): []string{}}})
	if devs, _ := q.Body["device_keys"].(map[string]any)[alice.UserID.String()].(map[string]any); q.Status != 200 || devs[alice.DeviceID.String()] == nil {
		t.Fatalf("keys/query through the edge: %d %s", q.Status, q.Raw)
	}
	// A keyserver error keeps its Matrix error across RPC.
	// (Complete keys naming another user: the edge's shape check passes, the keyserver refuses.)
	bad := keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": map[string]any{
		"user_id": "@someone:else", "device_id": "X", "algorithms": []string{"m.olm.v1.curve25519-aes-sha2"},
		"keys": map[string]string{"curve25519:X": "a"}, "signatures": map[string]any{}}})
	acctExpect(t, "foreign device_keys through the edge", bad, 400, "M_INVALID_PARAM")
	room := syncRoom(t, alice, bob)
	since := syncOnce(t, bob, "", 0, "").NextBatch
	syncSend(t, alice, room, "across processes")
	testutil.Eventually(t, 15*time.Second, "the message sent through the edge in /sync", func() bool {
		resp := syncOnce(t, bob, since, 2000, "")
		since = resp.NextBatch
		if jr, ok := resp.Rooms.Join[room]; ok {
			return slices.Contains(syncBodies(jr.Timeline.Events), "across processes")
		}
		return false
	})

	// A space hierarchy and a room summary through the edge: the
	// space's links and a restricted rule's allowed rooms cross RPC.
	space := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: map[string]any{"type": "m.space"}})
	child := roomsCreate(t, alice, &mautrix.ReqCreateRoom{RoomVersion: "10", InitialState: []*event.Event{{
		Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{
			"join_rule": "restricted", "allow": []map[string]any{{"type": "m.room_membership", "room_id": string(space)}}}}}}})
	spacesLink(t, alice, space, child, map[string]any{"via": []string{edgeName}})
	_, err := bob.JoinRoomByID(roomsCtx, space)
	roomsNoErr(t, err)
	if ids, links, _ := spacesHierarchy(t, bob, space, ""); !slices.Equal(ids, []string{string(space), string(child)}) || len(links[string(space)]) != 1 {
		t.Fatalf("hierarchy through the edge: %v, links %v", ids, links)
	}
	s := roomsDo(t, bob, "GET", "/_matrix/client/v1/room_summary/"+string(child), nil)
	if allowed, _ := s.Body["allowed_room_ids"].([]any); s.Status != 200 || len(allowed) != 1 || allowed[0] != string(space) {
		t.Fatalf("summary through the edge: %d %v", s.Status, s.Body)
	}
}
