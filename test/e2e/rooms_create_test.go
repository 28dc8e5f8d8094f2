package e2e

import (
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

func TestRoomsCreatePresets(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")

		cases := []struct {
			preset, joinRule, guest string
			bobLevel                float64
		}{
			{"private_chat", "invite", "can_join", 0},
			{"trusted_private_chat", "invite", "can_join", 100},
			{"public_chat", "public", "", 0},
		}
		for _, tc := range cases {
			t.Run(tc.preset, func(t *testing.T) {
				roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: tc.preset, Name: "Room " + tc.preset, Topic: "topic",
					Invite: []id.UserID{bob.UserID}})
				if got := roomsStateContent(t, alice, roomID, "m.room.join_rules", "")["join_rule"]; got != tc.joinRule {
					t.Fatalf("join_rule %v", got)
				}
				if got := roomsStateContent(t, alice, roomID, "m.room.history_visibility", "")["history_visibility"]; got != "shared" {
					t.Fatalf("history_visibility %v", got)
				}
				if tc.guest == "" {
					// public_chat: no event, which means forbidden.
					if r := roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/m.room.guest_access/", nil); r.Status != 404 {
						t.Fatalf("public_chat has a guest access event: %d %v", r.Status, r.Body)
					}
				} else if got := roomsStateContent(t, alice, roomID, "m.room.guest_access", "")["guest_access"]; got != tc.guest {
					t.Fatalf("guest_access %v", got)
				}
				pl := roomsStateContent(t, alice, roomID, "m.room.power_levels", "")
				users := pl["users"].(map[string]any)
				if users[string(alice.UserID)] != float64(100) {
					t.Fatalf("creator level %v", users)
				}
				if lvl, _ := users[string(bob.UserID)].(float64); lvl != tc.bobLevel {
					t.Fatalf("bob level %v", users)
				}
				if got := roomsStateContent(t, alice, roomID, "m.room.name", "")["name"]; got != "Room "+tc.preset {
					t.Fatalf("name %v", got)
				}
				// topic: the plain form and the text/plain m.topic form.
				topic := roomsStateContent(t, alice, roomID, "m.room.topic", "")
				rich, _ := topic["m.topic"].(map[string]any)
				texts, _ := rich["m.text"].([]any)
				if topic["topic"] != "topic" || len(texts) != 1 || texts[0].(map[string]any)["body"] != "topic" || texts[0].(map[string]any)["mimetype"] != "text/plain" {
					t.Fatalf("topic content %v", topic)
				}
				if got := roomsStateContent(t, alice, roomID, "m.room.member", string(bob.UserID))["membership"]; got != "invite" {
					t.Fatalf("bob membership %v", got)
				}
			})
		}

		t.Run("options", func(t *testing.T) {
			roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{
				RoomVersion: "11", RoomAliasName: "opts", Visibility: "public",
				CreationContent: map[string]any{"m.federate": false},
				InitialState: []*event.Event{{Type: event.StateTopic, StateKey: new(string),
					Content: event.Content{Parsed: &event.TopicEventContent{Topic: "initial"}}}},
				PowerLevelOverride: &event.PowerLevelsEventContent{Users: map[id.UserID]int{alice.UserID: 100}, EventsDefault: 10},
			})
			create := roomsStateContent(t, alice, roomID, "m.room.create", "")
			if create["room_version"] != "11" || create["m.federate"] != false {
				t.Fatalf("create %v", create)
			}
			if got := roomsStateContent(t, alice, roomID, "m.room.topic", "")["topic"]; got != "initial" {
				t.Fatalf("topic %v", got)
			}
			if got := roomsStateContent(t, alice, roomID, "m.room.canonical_alias", "")["alias"]; got != "#opts:"+inst.Cfg.ServerName {
				t.Fatalf("alias %v", got)
			}
			if got := roomsStateContent(t, alice, roomID, "m.room.power_levels", "")["events_default"]; got != float64(10) {
				t.Fatalf("override %v", got)
			}
			res, err := alice.ResolveAlias(roomsCtx, id.RoomAlias("#opts:"+inst.Cfg.ServerName))
			roomsNoErr(t, err)
			if res.RoomID != roomID {
				t.Fatalf("alias resolves to %s", res.RoomID)
			}
			_, err = alice.CreateRoom(roomsCtx, &mautrix.ReqCreateRoom{RoomAliasName: "opts"})
			roomsExpectErr(t, err, "M_ROOM_IN_USE", "duplicate alias")
		})

		t.Run("versions", func(t *testing.T) {
			for _, v := range []id.RoomVersion{"", "1", "10", "11", "12"} {
				roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{RoomVersion: v, Preset: "public_chat"})
				want := string(v)
				if want == "" {
					want = "10"
				}
				if got := roomsStateContent(t, alice, roomID, "m.room.create", "")["room_version"]; got != want {
					t.Fatalf("version %v want %s", got, want)
				}
				_, err := bob.JoinRoomByID(roomsCtx, roomID)
				roomsNoErr(t, err)
				_, err = bob.SendText(roomsCtx, roomID, "hello v"+want)
				roomsNoErr(t, err)
			}
			_, err := alice.CreateRoom(roomsCtx, &mautrix.ReqCreateRoom{RoomVersion: "99"})
			roomsExpectErr(t, err, "M_UNSUPPORTED_ROOM_VERSION", "bad version")
			r := roomsDo(t, alice, "POST", "/_matrix/client/v3/createRoom", `{"preset":"nope"}`)
			if r.Status != 400 {
				t.Fatalf("bad preset: %d", r.Status)
			}
			r = roomsDo(t, alice, "POST", "/_matrix/client/v3/createRoom", `{"invite":"notalist"}`)
			if r.Status != 400 || r.errcode() != "M_BAD_JSON" {
				t.Fatalf("bad invite: %d %v", r.Status, r.Body)
			}
		})
	})
}
