package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestSlidingSync: rooms sorted by recency, initial then incremental
// delivery by pos, unknown pos rejected.
func TestSlidingSync(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		older := syncRoom(t, alice)
		newer := syncRoom(t, alice)
		syncSend(t, alice, newer, "latest")
		path := "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
		req := map[string]any{
			"lists":      map[string]any{"all": map[string]any{"ranges": [][2]int{{0, 0}}, "timeline_limit": 5, "required_state": [][2]string{{"m.room.create", ""}}}},
			"extensions": map[string]any{"to_device": map[string]any{"enabled": true}, "account_data": map[string]any{"enabled": true}},
		}
		r := roomsDo(t, alice, "POST", path, req)
		if r.Status != 200 {
			t.Fatalf("sliding sync: %d %v", r.Status, r.Body)
		}
		if c := r.Body["lists"].(map[string]any)["all"].(map[string]any)["count"]; c != float64(2) {
			t.Fatalf("count %v", c)
		}
		rooms := r.Body["rooms"].(map[string]any)
		if _, ok := rooms[string(newer)]; !ok || len(rooms) != 1 {
			t.Fatalf("range [0,0] should hold only the most recent room: %v", rooms)
		}
		rm := rooms[string(newer)].(map[string]any)
		if rm["initial"] != true || len(rm["required_state"].([]any)) != 1 || len(rm["timeline"].([]any)) == 0 {
			t.Fatalf("room %v", rm)
		}
		pos := r.Body["pos"].(string)
		syncSend(t, alice, older, "bump")
		r = roomsDo(t, alice, "POST", path+"?timeout=5000&pos="+pos, req)
		rooms = r.Body["rooms"].(map[string]any)
		rm, ok := rooms[string(older)].(map[string]any)
		if !ok || rm["initial"] != true {
			t.Fatalf("bumped room not sent as initial: %v", rooms)
		}
		pos = r.Body["pos"].(string)
		syncSend(t, alice, older, "again")
		r = roomsDo(t, alice, "POST", path+"?timeout=5000&pos="+pos, req)
		rm = r.Body["rooms"].(map[string]any)[string(older)].(map[string]any)
		if rm["initial"] != false || len(rm["timeline"].([]any)) != 1 {
			t.Fatalf("incremental room %v", rm)
		}
		r = roomsDo(t, alice, "POST", path+"?pos=nope", req)
		if r.Status != 400 || r.errcode() != "M_UNKNOWN_POS" {
			t.Fatalf("unknown pos: %d %v", r.Status, r.Body)
		}
	})
}

// TestSlidingSyncFilters: list filters select rooms by DM, encryption,
// invite, room type and space; only bump events move a room up.
func TestSlidingSyncFilters(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		plain := syncRoom(t, alice)
		enc, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{InitialState: []*event.Event{{
			Type: event.StateEncryption, StateKey: ptr(""), Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		space, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{CreationContent: map[string]any{"type": "m.space"}})
		if err != nil {
			t.Fatal(err)
		}
		child := syncRoom(t, alice)
		if _, err := alice.SendStateEvent(syncCtx, space.RoomID, event.StateSpaceChild, string(child), map[string]any{"via": []string{inst.Cfg.ServerName}}); err != nil {
			t.Fatal(err)
		}
		dm, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{IsDirect: true, Invite: []id.UserID{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.SetAccountData(syncCtx, "m.direct", map[string][]id.RoomID{string(bob.UserID): {dm.RoomID}}); err != nil {
			t.Fatal(err)
		}
		path := "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
		list := func(c *mautrix.Client, filters map[string]any) (int, map[string]any) {
			t.Helper()
			r := roomsDo(t, c, "POST", path, map[string]any{"lists": map[string]any{"l": map[string]any{
				"ranges": [][2]int{{0, 99}}, "timeline_limit": 1, "filters": filters}}})
			if r.Status != 200 {
				t.Fatalf("sliding sync: %d %v", r.Status, r.Body)
			}
			return int(r.Body["lists"].(map[string]any)["l"].(map[string]any)["count"].(float64)), r.Body["rooms"].(map[string]any)
		}
		only := func(name string, c *mautrix.Client, filters map[string]any, want ...id.RoomID) {
			t.Helper()
			n, rooms := list(c, filters)
			if n != len(want) || len(rooms) != len(want) {
				t.Fatalf("%s: count %d, rooms %d, want %v", name, n, len(rooms), want)
			}
			for _, r := range want {
				if _, ok := rooms[string(r)]; !ok {
					t.Fatalf("%s: %s missing", name, r)
				}
			}
		}
		if n, _ := list(alice, nil); n != 5 {
			t.Fatalf("unfiltered count %d", n)
		}
		only("is_dm", alice, map[string]any{"is_dm": true}, dm.RoomID)
		only("is_encrypted", alice, map[string]any{"is_encrypted": true}, enc.RoomID)
		only("room_types space", alice, map[string]any{"room_types": []any{"m.space"}}, space.RoomID)
		if n, _ := list(alice, map[string]any{"not_room_types": []any{"m.space", nil}}); n != 0 {
			t.Fatalf("not_room_types [space, null] count %d", n)
		}
		only("spaces", alice, map[string]any{"spaces": []any{space.RoomID}}, child)
		only("bob is_invite", bob, map[string]any{"is_invite": true}, dm.RoomID)
		only("bob is_dm invite", bob, map[string]any{"is_dm": true}, dm.RoomID)
		only("bob not invite", bob, map[string]any{"is_invite": false})

		// Ordering: a message bumps a room; state changes and reactions do not.
		top := func() string {
			t.Helper()
			r := roomsDo(t, alice, "POST", path, map[string]any{"lists": map[string]any{"l": map[string]any{"ranges": [][2]int{{0, 0}}, "timeline_limit": 1}}})
			for id := range r.Body["rooms"].(map[string]any) {
				return id
			}
			return ""
		}
		// The send is answered before the roomserver publishes it; wait until
		// /sync has delivered each event before asking for the order.
		since := syncOnce(t, alice, "", 0, `{"room":{"timeline":{"limit":1}}}`).NextBatch
		seen := func(room id.RoomID, ev id.EventID) {
			t.Helper()
			since = syncUntil(t, alice, since, 10*time.Second, func(r *mautrix.RespSync) bool {
				jr := r.Rooms.Join[room]
				for i := 0; jr != nil && i < len(jr.Timeline.Events); i++ {
					if jr.Timeline.Events[i].ID == ev {
						return true
					}
				}
				return false
			})
		}
		msg := syncSend(t, alice, plain, "bump")
		seen(plain, msg)
		if got := top(); got != string(plain) {
			t.Fatalf("top room %s, want the one with the newest message %s", got, plain)
		}
		if _, err := alice.SendStateEvent(syncCtx, enc.RoomID, event.StateTopic, "", map[string]any{"topic": "t"}); err != nil {
			t.Fatal(err)
		}
		reaction, err := alice.SendReaction(syncCtx, child, msg, "x")
		if err != nil {
			t.Fatal(err)
		}
		seen(child, reaction.EventID)
		if got := top(); got != string(plain) {
			t.Fatalf("a topic change or reaction bumped %s", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestSlidingSyncRequiredStateDelta: on one connection, an incremental
// response carries only the required_state that changed since pos (and
// $LAZY members not sent yet); retrying a pos gives the same delta; a
// changed required_state config sends the room's full required_state.
func TestSlidingSyncRequiredStateDelta(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice, bob := inst.Register("alice", "password123"), inst.Register("bob", "password123")
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "first"})
		syncSend(t, alice, room, "hello")
		path := "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
		config := [][2]string{{"m.room.create", ""}, {"m.room.name", ""}, {"m.room.member", "$LAZY"}}
		request := func(pos string, config [][2]string) (map[string]any, string) {
			t.Helper()
			q := ""
			if pos != "" {
				q = "?timeout=5000&pos=" + pos
			}
			r := roomsDo(t, alice, "POST", path+q, map[string]any{"conn_id": "c1", "lists": map[string]any{"all": map[string]any{
				"ranges": [][2]int{{0, 10}}, "timeline_limit": 10, "required_state": config}}})
			if r.Status != 200 {
				t.Fatalf("sliding sync: %d %v", r.Status, r.Body)
			}
			rm, _ := r.Body["rooms"].(map[string]any)[string(room)].(map[string]any)
			if rm == nil {
				t.Fatalf("room missing from sliding sync response: %v", r.Body)
			}
			return rm, r.Body["pos"].(string)
		}
		state := func(rm map[string]any) []string {
			var out []string
			for _, e := range rm["required_state"].([]any) {
				ev := e.(map[string]any)
				out = append(out, ev["type"].(string)+"|"+ev["state_key"].(string))
			}
			slices.Sort(out)
			return out
		}
		aliceMember, bobMember := "m.room.member|"+string(alice.UserID), "m.room.member|"+string(bob.UserID)

		rm, pos1 := request("", config)
		if got := state(rm); rm["initial"] != true || !slices.Equal(got, []string{"m.room.create|", aliceMember, "m.room.name|"}) {
			t.Fatalf("initial required_state %v (initial %v)", got, rm["initial"])
		}
		// A message: nothing in required_state changed, nothing is resent.
		syncSend(t, alice, room, "again")
		rm, pos2 := request(pos1, config)
		if got := state(rm); rm["initial"] != false || len(got) != 0 {
			t.Fatalf("unchanged required_state resent: %v", got)
		}
		// bob joins and speaks, the room is renamed: only those.
		_, err := bob.JoinRoomByID(roomsCtx, room)
		must(t, err)
		syncSend(t, bob, room, "hi from bob")
		_, err = alice.SendStateEvent(roomsCtx, room, event.StateRoomName, "", map[string]any{"name": "second"})
		must(t, err)
		want := []string{bobMember, "m.room.name|"}
		rm, pos3 := request(pos2, config)
		if got := state(rm); !slices.Equal(got, want) {
			t.Fatalf("incremental required_state %v, want %v", got, want)
		}
		// Retrying pos2 (a lost response) gives the same delta.
		if rm, _ = request(pos2, config); !slices.Equal(state(rm), want) {
			t.Fatalf("retried pos: required_state %v, want %v", state(rm), want)
		}
		// A new required_state config: all of it, without new events.
		wider := append(slices.Clone(config), [2]string{"m.room.join_rules", ""})
		rm, _ = request(pos3, wider)
		if got := state(rm); rm["initial"] != false || !slices.Equal(got, []string{"m.room.create|", "m.room.join_rules|", "m.room.name|"}) {
			t.Fatalf("required_state after a config change %v", got)
		}
	})
}
