package e2e

import (
	"net/url"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomSummary: MSC3266 previews a public room by ID or alias, with
// or without a token, shows members their membership, and answers a
// private room the caller is not in like an unknown one.
func TestRoomSummary(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	public := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Town square", Topic: "Say hi", RoomAliasName: "square"})
	private := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "Secret"})

	r := roomsDo(t, bob, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape("#square:"+inst.Cfg.ServerName), nil)
	if r.Status != 200 || r.Body["room_id"] != public.String() || r.Body["name"] != "Town square" || r.Body["topic"] != "Say hi" ||
		r.Body["join_rule"] != "public" || r.Body["num_joined_members"] != float64(1) || r.Body["membership"] != nil {
		t.Fatalf("public room by alias: %d %v", r.Status, r.Body)
	}
	anon := inst.Client()
	if r := roomsDo(t, anon, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape(public.String()), nil); r.Status != 200 || r.Body["room_id"] != public.String() {
		t.Fatalf("without a token: %d %v", r.Status, r.Body)
	}
	if r := roomsDo(t, alice, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape(private.String()), nil); r.Status != 200 || r.Body["membership"] != "join" {
		t.Fatalf("member's private room: %d %v", r.Status, r.Body)
	}
	hidden := roomsDo(t, bob, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape(private.String()), nil)
	unknown := roomsDo(t, bob, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape("!nope:"+inst.Cfg.ServerName), nil)
	if hidden.Status != 404 || unknown.Status != 404 || hidden.errcode() != "M_NOT_FOUND" {
		t.Fatalf("private room %d %v / unknown %d %v", hidden.Status, hidden.Body, unknown.Status, unknown.Body)
	}
	for _, path := range []string{"/_matrix/client/unstable/im.nheko.summary/summary/", "/_matrix/client/unstable/im.nheko.summary/rooms/"} {
		suffix := ""
		if strings.HasSuffix(path, "/rooms/") {
			suffix = "/summary"
		}
		if r := roomsDo(t, anon, "GET", path+url.PathEscape(public.String())+suffix, nil); r.Status != 200 || r.Body["room_id"] != public.String() {
			t.Fatalf("unstable path %s: %d %v", path, r.Status, r.Body)
		}
	}
	if v := roomsDo(t, anon, "GET", "/_matrix/client/versions", nil); v.Body["unstable_features"].(map[string]any)["im.nheko.summary"] != true {
		t.Fatalf("/versions does not advertise the unstable summary: %v", v.Body)
	}
	if r := roomsDo(t, bob, "GET", "/_matrix/client/v1/room_summary/nonsense", nil); r.Status != 400 {
		t.Fatalf("bad ID: %d %v", r.Status, r.Body)
	}
}
