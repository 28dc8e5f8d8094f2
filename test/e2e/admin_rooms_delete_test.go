package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	adminstorage "github.com/axon-hs/axon/adminapi/storage"
	fedstorage "github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/testutil"
	rsstorage "github.com/axon-hs/axon/roomserver/storage"
	"github.com/axon-hs/axon/server/testserver"
	syncstorage "github.com/axon-hs/axon/syncapi/storage"
	ustorage "github.com/axon-hs/axon/userapi/storage"
)

// openComponentDB opens a component's database beside the running (or
// stopped) server, for reading row counts.
func openComponentDB(t testing.TB, inst *testserver.Instance, component string) *istorage.DB {
	t.Helper()
	db, err := istorage.Open(context.Background(), inst.Cfg.DatabaseDSN(component))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// roomRowCounts counts, per table, the rows every component holds of a
// room (through each storage package's count helper).
func roomRowCounts(t testing.TB, inst *testserver.Instance, roomID id.RoomID) map[string]int {
	t.Helper()
	ctx := context.Background()
	all := map[string]int{}
	add := func(m map[string]int, err error) {
		t.Helper()
		must(t, err)
		for k, v := range m {
			all[k] = v
		}
	}
	add(rsstorage.New(openComponentDB(t, inst, "roomserver")).RoomRowCounts(ctx, roomID.String()))
	add(syncstorage.New(openComponentDB(t, inst, "syncapi")).RoomRowCounts(ctx, roomID.String()))
	add(ustorage.New(openComponentDB(t, inst, "userapi")).RoomRowCounts(ctx, roomID.String()))
	if inst.Server != nil && inst.Server.Fed != nil {
		add(fedstorage.New(openComponentDB(t, inst, "federationapi")).RoomRowCounts(ctx, roomID.String()))
	}
	return all
}

// nonZero lists the tables with rows left.
func nonZero(counts map[string]int) []string {
	var out []string
	for k, v := range counts {
		if v != 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// deleteStatusOf reads GET /v2/rooms/delete_status/{id}.
func deleteStatusOf(t testing.TB, admin *mautrix.Client, deleteID string) roomsRaw {
	t.Helper()
	return adminDo(t, admin, "GET", "/v2/rooms/delete_status/"+url.PathEscape(deleteID), nil)
}

// waitDeleteStatus waits until the deletion reaches want (or fails).
func waitDeleteStatus(t testing.TB, admin *mautrix.Client, deleteID, want string) roomsRaw {
	t.Helper()
	var last roomsRaw
	testutil.Eventually(t, 60*time.Second, "deletion "+deleteID+" to be "+want, func() bool {
		last = deleteStatusOf(t, admin, deleteID)
		if s, _ := last.Body["status"].(string); s == "failed" && want != "failed" {
			t.Fatalf("deletion failed: %v", last.Body)
		}
		return last.Body["status"] == want
	})
	return last
}

// populatedRoom makes a room with data in every component: messages
// (search index, notifications), a receipt, a room tag, an alias, a
// joined member and an invited one.
func populatedRoom(t *testing.T, alice, bob, carol *mautrix.Client, alias string) id.RoomID {
	t.Helper()
	ctx := context.Background()
	resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: alias, Name: "doomed"})
	must(t, err)
	room := resp.RoomID
	_, err = bob.JoinRoomByID(ctx, room)
	must(t, err)
	_, err = alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.UserID})
	must(t, err)
	var last id.EventID
	for _, body := range []string{"searchable banana", "hello @bob", "more"} {
		r, err := alice.SendText(ctx, room, body)
		must(t, err)
		last = r.EventID
	}
	// A receipt needs the event in syncapi, which applies it shortly.
	testutil.Eventually(t, 30*time.Second, "bob's receipt accepted", func() bool {
		return bob.SendReceipt(ctx, room, last, event.ReceiptTypeRead, nil) == nil
	})
	must(t, bob.AddTag(ctx, room, "u.work", 0.5))
	return room
}

// TestAdminRoomDelete: DELETE /v2/rooms/{roomId} answers a delete_id at
// once; the job makes every local member leave (moving them to a new
// room with the message and the aliases), blocks the room and purges it
// from every component's tables; its status is stored (read by ID and by
// room, and after a restart). Non-admins get 403.
func TestAdminRoomDelete(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		room := populatedRoom(t, alice, bob, carol, "doomed")
		alias := "#doomed:" + inst.Cfg.ServerName
		r := url.PathEscape(room.String())

		testutil.Eventually(t, 30*time.Second, "the room's data in every component", func() bool {
			c := roomRowCounts(t, inst, room)
			return c["roomserver_events"] > 0 && c["syncapi_events"] > 0 && c["syncapi_receipts"] > 0 &&
				c["syncapi_search"] > 0 && c["syncapi_account_data"] > 0 && c["userapi_account_data"] > 0 &&
				c["syncapi_notifications"] > 0 && c["roomserver_aliases"] > 0
		})

		if got := adminDo(t, bob, "DELETE", "/v2/rooms/"+r, map[string]any{}); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
			t.Fatalf("delete as non-admin: %d %v", got.Status, got.Body)
		}
		if got := adminDo(t, admin, "DELETE", "/v2/rooms/"+r, map[string]any{"purge": "yes"}); got.Status != 400 {
			t.Fatalf("delete with a non-boolean purge: %d %v", got.Status, got.Body)
		}
		got := adminDo(t, admin, "DELETE", "/v2/rooms/"+r, map[string]any{
			"new_room_user_id": admin.UserID.String(), "room_name": "Gone", "message": "This room was shut down.", "block": true,
		})
		deleteID, _ := got.Body["delete_id"].(string)
		if got.Status != 200 || deleteID == "" {
			t.Fatalf("delete: %d %v", got.Status, got.Body)
		}
		st := waitDeleteStatus(t, admin, deleteID, "complete")
		sr, _ := st.Body["shutdown_room"].(map[string]any)
		kicked := toStrings(sr["kicked_users"])
		slices.Sort(kicked)
		want := []string{alice.UserID.String(), bob.UserID.String(), carol.UserID.String()}
		slices.Sort(want)
		if !slices.Equal(kicked, want) || len(toStrings(sr["failed_to_kick_users"])) != 0 {
			t.Errorf("kicked %v (failed %v), want %v", kicked, sr["failed_to_kick_users"], want)
		}
		if a := toStrings(sr["local_aliases"]); !slices.Equal(a, []string{alias}) {
			t.Errorf("local_aliases %v, want [%s]", a, alias)
		}
		newRoom, _ := sr["new_room_id"].(string)
		if newRoom == "" || st.Body["room_id"] != room.String() || st.Body["delete_id"] != deleteID {
			t.Fatalf("status: %v", st.Body)
		}

		// Every component's rows of the room are gone.
		testutil.Eventually(t, 30*time.Second, "no rows of the room left", func() bool {
			return len(nonZero(roomRowCounts(t, inst, room))) == 0
		})

		// The members are in the new room, with the message; the alias
		// points there; the old room is blocked.
		joined, err := bob.JoinedRooms(ctx)
		must(t, err)
		if !slices.Contains(joined.JoinedRooms, id.RoomID(newRoom)) || slices.Contains(joined.JoinedRooms, room) {
			t.Errorf("bob's rooms %v: want the new room %s and not %s", joined.JoinedRooms, newRoom, room)
		}
		msgs, err := bob.Messages(ctx, id.RoomID(newRoom), "", "", mautrix.DirectionBackward, nil, 20)
		must(t, err)
		found := false
		for _, ev := range msgs.Chunk {
			if ev.Type == event.EventMessage && ev.Content.Raw["body"] == "This room was shut down." {
				found = true
			}
		}
		if !found {
			t.Errorf("the new room lacks the message")
		}
		if ra, err := alice.ResolveAlias(ctx, id.RoomAlias(alias)); err != nil || ra.RoomID.String() != newRoom {
			t.Errorf("alias resolves to %v (%v), want %s", ra, err, newRoom)
		}
		if _, err := alice.JoinRoomByID(ctx, room); roomsErrCode(err) != "M_FORBIDDEN" {
			t.Errorf("joining the blocked room: %v, want M_FORBIDDEN", err)
		}
		if b := adminDo(t, admin, "GET", "/v1/rooms/"+r+"/block", nil); b.Body["block"] != true || b.Body["user_id"] != admin.UserID.String() {
			t.Errorf("block status: %v", b.Body)
		}
		// A second deletion: the room is unknown now, only blocking is possible.
		if again := adminDo(t, admin, "DELETE", "/v2/rooms/"+r, map[string]any{}); again.Status != 400 {
			t.Errorf("deleting an unknown room without block: %d %v", again.Status, again.Body)
		}

		// The status is stored: by room, and after a restart.
		byRoom := adminDo(t, admin, "GET", "/v2/rooms/"+r+"/delete_status", nil)
		if res := adminList(byRoom, "results"); len(res) != 1 || res[0].(map[string]any)["delete_id"] != deleteID {
			t.Errorf("delete_status by room: %v", byRoom.Body)
		}
		if got := adminDo(t, bob, "GET", "/v2/rooms/delete_status/"+deleteID, nil); got.Status != 403 {
			t.Errorf("status as non-admin: %d", got.Status)
		}
		inst = inst.Restart()
		admin.HomeserverURL = mustURL(t, inst.URL)
		if st := deleteStatusOf(t, admin, deleteID); st.Body["status"] != "complete" {
			t.Errorf("after restart: %v", st.Body)
		}
		if got := deleteStatusOf(t, admin, "nosuchid"); got.Status != 404 {
			t.Errorf("unknown delete ID: %d", got.Status)
		}
	})
}

// TestAdminRoomDeleteResumes: a deletion interrupted by a restart (its
// stored status shutting_down or purging) is resumed on start and
// completes, leaving no rows of the room.
func TestAdminRoomDeleteResumes(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		room := populatedRoom(t, alice, bob, carol, "halfway")
		testutil.Eventually(t, 30*time.Second, "the room's messages in syncapi", func() bool {
			return roomRowCounts(t, inst, room)["syncapi_events"] > 0
		})
		// The server stops with a deletion shut down half way: alice
		// already left and is recorded as kicked; bob and carol remain.
		_, err := alice.LeaveRoom(context.Background(), room)
		must(t, err)
		inst.Stop()
		params, _ := json.Marshal(map[string]any{"purge": true, "block": false, "room_name": "x", "message": "y"})
		result, _ := json.Marshal(map[string]any{"kicked_users": []string{alice.UserID.String()}, "failed_to_kick_users": []string{},
			"local_aliases": []string{}, "new_room_id": nil})
		adb := adminstorage.New(openComponentDB(t, inst, "adminapi"))
		now := time.Now().UnixMilli()
		must(t, adb.InsertRoomDelete(context.Background(), adminstorage.RoomDelete{DeleteID: "resumeme", RoomID: room.String(),
			Requester: admin.UserID.String(), Params: string(params), Status: "shutting_down", Result: string(result), CreatedTS: now, UpdatedTS: now}))
		adb.Close()

		inst = inst.Restart()
		admin.HomeserverURL = mustURL(t, inst.URL)
		st := waitDeleteStatus(t, admin, "resumeme", "complete")
		kicked := toStrings(st.Body["shutdown_room"].(map[string]any)["kicked_users"])
		slices.Sort(kicked)
		want := []string{alice.UserID.String(), bob.UserID.String(), carol.UserID.String()}
		slices.Sort(want)
		if !slices.Equal(kicked, want) {
			t.Errorf("kicked after resuming: %v, want %v", kicked, want)
		}
		testutil.Eventually(t, 30*time.Second, "no rows of the room left", func() bool {
			return len(nonZero(roomRowCounts(t, inst, room))) == 0
		})
	})
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestAdminRoomDeleteFederated: deleting a room another server is in
// purges this server's federation rows of it too (joined servers), the
// v1 endpoint answers with the result at once, and the other server
// keeps the room.
func TestAdminRoomDeleteFederated(t *testing.T) {
	ctx := context.Background()
	a, b := fedPair(t)
	admin := adminUser(t, a, "root")
	alice := a.Register("alice", "password1")
	bob := b.Register("bob", "password1")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	_, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}})
	must(t, err)
	_, err = alice.SendText(ctx, room, "hello bob")
	must(t, err)
	testutil.Eventually(t, 30*time.Second, "A's federation sender to know B is in the room", func() bool {
		return roomRowCounts(t, a, room)["federationapi_joined_servers"] > 0
	})
	got := adminDo(t, admin, "DELETE", "/v1/rooms/"+url.PathEscape(room.String()), map[string]any{})
	if got.Status != 200 || !slices.Equal(toStrings(got.Body["kicked_users"]), []string{alice.UserID.String()}) || got.Body["new_room_id"] != nil {
		t.Fatalf("v1 delete: %d %v", got.Status, got.Body)
	}
	testutil.Eventually(t, 30*time.Second, "no rows of the room left on A", func() bool {
		return len(nonZero(roomRowCounts(t, a, room))) == 0
	})
	if _, err := b.Server.RoomAPI.QueryRoomVersion(ctx, matrixid.RoomID(room)); err != nil {
		t.Errorf("B lost the room: %v", err)
	}
	// A's roomserver no longer knows the room: input for it is refused.
	if _, err := alice.SendText(ctx, room, "into the void"); err == nil {
		t.Error("sending to a purged room succeeded")
	}
}
