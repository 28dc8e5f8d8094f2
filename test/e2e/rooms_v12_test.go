package e2e

import (
	"net/http"
	"slices"
	"testing"

	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomsV12Creators: in room version 12 (MSC4289) trusted_private_chat
// makes invitees additional creators (not power levels users), the
// tombstone needs level 150, a malformed additional_creators or a creator
// listed in the power levels is 400 M_BAD_JSON, and a second
// m.room.create is 400.
func TestRoomsV12Creators(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice12", "password123")
		bob := inst.Register("bob12", "password123")
		v3 := inst.URL + "/_matrix/client/v3"
		create := func(body string) acctResp {
			return acctDo(t, "POST", v3+"/createRoom", alice.AccessToken, body)
		}

		r := create(`{"room_version":"12","preset":"trusted_private_chat","invite":["` + string(bob.UserID) + `"]}`)
		if r.Status != http.StatusOK {
			t.Fatalf("createRoom v12 trusted: %d %s", r.Status, r.Raw)
		}
		roomID := id.RoomID(r.str("room_id"))
		createContent := roomsStateContent(t, alice, roomID, "m.room.create", "")
		extra, _ := createContent["additional_creators"].([]any)
		if !slices.Contains(extra, any(string(bob.UserID))) {
			t.Fatalf("additional_creators = %v, want the invitee %s", createContent["additional_creators"], bob.UserID)
		}
		pl := roomsStateContent(t, alice, roomID, "m.room.power_levels", "")
		if users, _ := pl["users"].(map[string]any); users[string(bob.UserID)] != nil || users[string(alice.UserID)] != nil {
			t.Fatalf("power levels users %v list a creator", users)
		}
		if events, _ := pl["events"].(map[string]any); events["m.room.tombstone"] != float64(150) {
			t.Fatalf("tombstone level %v, want 150", events["m.room.tombstone"])
		}

		for name, body := range map[string]string{
			"additional_creators not an array": `{"room_version":"12","creation_content":{"additional_creators":"@x:y"}}`,
			"additional_creators not strings":  `{"room_version":"12","creation_content":{"additional_creators":[1]}}`,
			"additional_creators not user IDs": `{"room_version":"12","creation_content":{"additional_creators":["nobody"]}}`,
			"creator in power levels":          `{"room_version":"12","power_level_content_override":{"users":{"` + string(alice.UserID) + `":100}}}`,
			"additional creator in power levels": `{"room_version":"12","creation_content":{"additional_creators":["` + string(bob.UserID) + `"]},` +
				`"power_level_content_override":{"users":{"` + string(bob.UserID) + `":50}}}`,
		} {
			acctExpect(t, name, create(body), http.StatusBadRequest, "M_BAD_JSON")
		}

		plPath := v3 + "/rooms/" + string(roomID) + "/state/m.room.power_levels/"
		acctExpect(t, "PUT power levels naming a creator",
			acctDo(t, "PUT", plPath, alice.AccessToken, `{"users":{"`+string(bob.UserID)+`":100}}`), http.StatusBadRequest, "M_BAD_JSON")
		r = acctDo(t, "PUT", v3+"/rooms/"+string(roomID)+"/state/m.room.create/", alice.AccessToken, `{"room_version":"12"}`)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("second m.room.create: %d %s, want 400", r.Status, r.Raw)
		}
		// Before v12, creators are ordinary power levels users.
		r = create(`{"room_version":"11","preset":"trusted_private_chat","invite":["` + string(bob.UserID) + `"]}`)
		if r.Status != http.StatusOK {
			t.Fatalf("createRoom v11 trusted: %d %s", r.Status, r.Raw)
		}
		pl = roomsStateContent(t, alice, id.RoomID(r.str("room_id")), "m.room.power_levels", "")
		if users, _ := pl["users"].(map[string]any); users[string(bob.UserID)] != float64(100) {
			t.Fatalf("v11 trusted invitee level %v, want 100", users[string(bob.UserID)])
		}
	})
}
