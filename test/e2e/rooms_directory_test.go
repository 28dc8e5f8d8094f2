package e2e

import (
	"fmt"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

func TestRoomsAliasesAndDirectory(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		server := inst.Cfg.ServerName
		roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Findable Lounge"})

		alias := id.RoomAlias("#lounge:" + server)
		_, err := alice.CreateAlias(roomsCtx, alias, roomID)
		roomsNoErr(t, err)
		_, err = alice.CreateAlias(roomsCtx, alias, roomID)
		roomsExpectErr(t, err, "M_UNKNOWN", "duplicate alias")
		r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/directory/room/%23x:elsewhere.example", map[string]string{"room_id": string(roomID)})
		if r.Status != 400 {
			t.Fatalf("remote alias: %d", r.Status)
		}
		res, err := bob.ResolveAlias(roomsCtx, alias)
		roomsNoErr(t, err)
		if res.RoomID != roomID || len(res.Servers) != 1 {
			t.Fatalf("resolve %+v", res)
		}
		_, err = bob.JoinRoomByID(roomsCtx, roomID)
		roomsNoErr(t, err)
		list, err := bob.GetAliases(roomsCtx, roomID)
		roomsNoErr(t, err)
		if !slices.Contains(list.Aliases, alias) {
			t.Fatalf("aliases %v", list.Aliases)
		}
		// Canonical alias must point here.
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateCanonicalAlias, "", map[string]string{"alias": "#missing:" + server})
		roomsExpectErr(t, err, "M_BAD_ALIAS", "canonical alias to an unknown alias")
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateCanonicalAlias, "", map[string]string{"alias": "%not-an-alias:" + server})
		roomsExpectErr(t, err, "M_INVALID_PARAM", "canonical alias with invalid syntax")
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateCanonicalAlias, "", map[string]any{"alias": string(alias), "alt_aliases": []string{"#bad"}})
		roomsExpectErr(t, err, "M_INVALID_PARAM", "alt alias with invalid syntax")
		alt := id.RoomAlias("#lounge-alt:" + server)
		_, err = alice.CreateAlias(roomsCtx, alt, roomID)
		roomsNoErr(t, err)
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.StateCanonicalAlias, "", map[string]any{"alias": string(alias), "alt_aliases": []string{string(alt)}})
		roomsNoErr(t, err)
		_, err = bob.DeleteAlias(roomsCtx, alias)
		roomsExpectErr(t, err, "M_FORBIDDEN", "delete someone else's alias at level 0")
		_, err = alice.DeleteAlias(roomsCtx, alias)
		roomsNoErr(t, err)
		_, err = bob.ResolveAlias(roomsCtx, alias)
		roomsExpectErr(t, err, "M_NOT_FOUND", "deleted alias")
		// Deleting aliases takes them out of the canonical alias event.
		if c := roomsStateContent(t, alice, roomID, "m.room.canonical_alias", ""); c["alias"] != nil || len(c["alt_aliases"].([]any)) != 1 {
			t.Fatalf("canonical alias after deleting its alias: %v", c)
		}
		_, err = alice.DeleteAlias(roomsCtx, alt)
		roomsNoErr(t, err)
		if c := roomsStateContent(t, alice, roomID, "m.room.canonical_alias", ""); len(c) != 0 {
			t.Fatalf("canonical alias after deleting every alias: %v", c)
		}

		// Directory visibility and /publicRooms with search and paging.
		r = roomsDo(t, bob, "GET", "/_matrix/client/v3/directory/list/room/"+string(roomID), nil)
		if r.Body["visibility"] != "private" {
			t.Fatalf("visibility %v", r.Body)
		}
		r = roomsDo(t, bob, "PUT", "/_matrix/client/v3/directory/list/room/"+string(roomID), map[string]string{"visibility": "public"})
		if r.Status != 403 {
			t.Fatalf("bob publishes: %d", r.Status)
		}
		r = roomsDo(t, alice, "PUT", "/_matrix/client/v3/directory/list/room/"+string(roomID), map[string]string{"visibility": "public"})
		if r.Status != 200 {
			t.Fatalf("alice publishes: %d %v", r.Status, r.Body)
		}
		for i := 0; i < 3; i++ {
			roomsCreate(t, alice, &mautrix.ReqCreateRoom{Visibility: "public", Name: fmt.Sprintf("Other %d", i)})
		}
		pr, err := bob.PublicRooms(roomsCtx, &mautrix.ReqPublicRooms{Limit: 2})
		roomsNoErr(t, err)
		if len(pr.Chunk) != 2 || pr.NextBatch == "" || pr.TotalRoomCountEstimate != 4 {
			t.Fatalf("page 1: %+v", pr)
		}
		if pr.Chunk[0].RoomID != roomID || pr.Chunk[0].NumJoinedMembers != 2 || pr.Chunk[0].Name != "Findable Lounge" {
			t.Fatalf("largest room first: %+v", pr.Chunk[0])
		}
		pr2, err := bob.PublicRooms(roomsCtx, &mautrix.ReqPublicRooms{Limit: 2, Since: pr.NextBatch})
		roomsNoErr(t, err)
		if len(pr2.Chunk) != 2 || pr2.NextBatch != "" {
			t.Fatalf("page 2: %+v", pr2)
		}
		r = roomsDo(t, bob, "POST", "/_matrix/client/v3/publicRooms", map[string]any{"filter": map[string]string{"generic_search_term": "findable"}})
		if chunk := r.Body["chunk"].([]any); len(chunk) != 1 {
			t.Fatalf("search: %v", r.Body)
		}
	})
}

func TestRoomsUpgrade(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		server := inst.Cfg.ServerName
		old := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Old", Topic: "keep me", RoomAliasName: "up", RoomVersion: "10"})
		_, err := bob.JoinRoomByID(roomsCtx, old)
		roomsNoErr(t, err)

		r := roomsDo(t, bob, "POST", "/_matrix/client/v3/rooms/"+string(old)+"/upgrade", map[string]string{"new_version": "11"})
		if r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
			t.Fatalf("bob upgrades: %d %v", r.Status, r.Body)
		}
		r = roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+string(old)+"/upgrade", map[string]string{"new_version": "99"})
		if r.errcode() != "M_UNSUPPORTED_ROOM_VERSION" {
			t.Fatalf("bad version: %v", r.Body)
		}
		for _, v := range []string{"11", "12"} {
			r = roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+string(old)+"/upgrade", map[string]string{"new_version": v})
			if r.Status != 200 {
				t.Fatalf("upgrade to %s: %d %v", v, r.Status, r.Body)
			}
			newRoom := id.RoomID(r.Body["replacement_room"].(string))
			tomb := roomsStateContent(t, alice, old, "m.room.tombstone", "")
			if tomb["replacement_room"] != string(newRoom) {
				t.Fatalf("tombstone %v", tomb)
			}
			create := roomsStateContent(t, alice, newRoom, "m.room.create", "")
			if create["room_version"] != v || create["predecessor"].(map[string]any)["room_id"] != string(old) {
				t.Fatalf("create %v", create)
			}
			// From v12 (MSC4291) the predecessor is named by room ID only.
			if _, has := create["predecessor"].(map[string]any)["event_id"]; has != (v != "12") {
				t.Fatalf("upgrade to %s: predecessor %v", v, create["predecessor"])
			}
			if got := roomsStateContent(t, alice, newRoom, "m.room.topic", "")["topic"]; got != "keep me" {
				t.Fatalf("topic not carried: %v", got)
			}
			res, err := alice.ResolveAlias(roomsCtx, id.RoomAlias("#up:"+server))
			roomsNoErr(t, err)
			if res.RoomID != newRoom {
				t.Fatalf("alias still points to %s", res.RoomID)
			}
			if got := roomsStateContent(t, alice, newRoom, "m.room.canonical_alias", "")["alias"]; got != "#up:"+server {
				t.Fatalf("canonical alias %v", got)
			}
			_, err = bob.SendText(roomsCtx, old, "still here?")
			roomsExpectErr(t, err, "M_FORBIDDEN", "talking in the old room")
			_, err = bob.JoinRoomByID(roomsCtx, newRoom)
			roomsNoErr(t, err)
			old = newRoom
		}
	})
}

// Upgrading to v12 with additional_creators (MSC4289): they are creators
// of the new room, and no creator keeps a power level entry; other
// users keep theirs. additional_creators is refused for a version
// without privileged creators, and must be a list of user IDs.
func TestRoomsUpgradeAdditionalCreators(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	carol := inst.Register("carol", "password123")
	old := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "11"})
	for _, c := range []*mautrix.Client{bob, carol} {
		_, err := c.JoinRoomByID(roomsCtx, old)
		roomsNoErr(t, err)
	}
	_, err := alice.SendStateEvent(roomsCtx, old, event.StatePowerLevels, "", map[string]any{
		"users": map[string]int{string(alice.UserID): 100, string(bob.UserID): 100, string(carol.UserID): 50}})
	roomsNoErr(t, err)
	up := "/_matrix/client/v3/rooms/" + string(old) + "/upgrade"
	if r := roomsDo(t, alice, "POST", up, map[string]any{"new_version": "11", "additional_creators": []string{string(bob.UserID)}}); r.errcode() != "M_BAD_JSON" {
		t.Fatalf("additional_creators for v11: %d %v", r.Status, r.Body)
	}
	if r := roomsDo(t, alice, "POST", up, map[string]any{"new_version": "12", "additional_creators": []string{"bob"}}); r.errcode() != "M_BAD_JSON" {
		t.Fatalf("additional_creators not user IDs: %d %v", r.Status, r.Body)
	}
	r := roomsDo(t, alice, "POST", up, map[string]any{"new_version": "12", "additional_creators": []string{string(bob.UserID)}})
	if r.Status != 200 {
		t.Fatalf("upgrade: %d %v", r.Status, r.Body)
	}
	newRoom := id.RoomID(r.Body["replacement_room"].(string))
	create := roomsStateContent(t, alice, newRoom, "m.room.create", "")
	if ac, _ := create["additional_creators"].([]any); len(ac) != 1 || ac[0] != string(bob.UserID) {
		t.Fatalf("create %v", create)
	}
	users, _ := roomsStateContent(t, alice, newRoom, "m.room.power_levels", "")["users"].(map[string]any)
	if len(users) != 1 || users[string(carol.UserID)] != float64(50) {
		t.Fatalf("new power levels users %v, want only carol at 50", users)
	}
}
