package e2e

import (
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
)

// TestFederationSpacesHierarchy: A's space links a space on B, whose
// rooms A asks B about (federation /hierarchy): B's public room is shown,
// the invite-only one B lists as inaccessible is not, a link from B's
// space back to a room of A is walked on A. A restricted room of B
// allowed through A's space appears only once B knows A is in that space
// (one of B's users joined it), and only for A's users in the space.
// The room summary of B's rooms is answered from B's answer (via, or an
// alias of B), with encryption, room_version and allowed_room_ids; and
// from the cache once B is gone. A space of B a user of A is invited to
// is shown to that user, asked of the inviter's server.
func TestFederationSpacesHierarchy(t *testing.T) {
	a, b := fedPair(t)
	alice, carol := a.Register("alice", "password1"), a.Register("carol", "password1")
	bob := b.Register("bob", "password1")
	viaA, viaB := []string{a.Cfg.ServerName}, []string{b.Cfg.ServerName}
	names := map[string]string{}
	mk := func(c *mautrix.Client, name string, req mautrix.ReqCreateRoom) id.RoomID {
		req.Name = name
		rid := roomsCreate(t, c, &req)
		names[string(rid)] = name
		return rid
	}
	space := map[string]any{"type": "m.space"}
	root := mk(alice, "root", mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: space})
	aRoom := mk(alice, "aRoom", mautrix.ReqCreateRoom{Preset: "public_chat"})
	aBack := mk(alice, "aBack", mautrix.ReqCreateRoom{Preset: "public_chat"})
	bSpace := mk(bob, "bSpace", mautrix.ReqCreateRoom{Preset: "public_chat", CreationContent: space})
	bRoom := mk(bob, "bRoom", mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "bravo", Topic: "on B",
		InitialState: []*event.Event{{Type: event.StateEncryption, Content: event.Content{Raw: map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}})
	bSecret := mk(bob, "bSecret", mautrix.ReqCreateRoom{Preset: "private_chat"})
	bRestricted := mk(bob, "bRestricted", mautrix.ReqCreateRoom{RoomVersion: "10", InitialState: []*event.Event{{
		Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{
			"join_rule": "restricted", "allow": []map[string]any{{"type": "m.room_membership", "room_id": string(root), "via": viaA}}}}}}})

	spacesLink(t, alice, root, aRoom, map[string]any{"via": viaA})
	spacesLink(t, alice, root, bSpace, map[string]any{"via": viaB})
	spacesLink(t, alice, root, bRestricted, map[string]any{"via": viaB})
	spacesLink(t, bob, bSpace, bRoom, map[string]any{"via": viaB})
	spacesLink(t, bob, bSpace, bSecret, map[string]any{"via": viaB})
	spacesLink(t, bob, bSpace, aBack, map[string]any{"via": viaA})

	ids, links, r := spacesHierarchy(t, alice, root, "")
	if got, want := spacesNames(ids, names), "root,aRoom,bSpace,bRoom,aBack"; got != want {
		t.Fatalf("alice's walk %s, want %s", got, want)
	}
	if len(links[string(bSpace)]) != 3 {
		t.Fatalf("bSpace's links from B: %v", links)
	}
	for _, x := range r.Body["rooms"].([]any) {
		if room := x.(map[string]any); room["room_id"] == string(bRoom) &&
			(room["name"] != "bRoom" || room["topic"] != "on B" || room["encryption"] != "m.megolm.v1.aes-sha2" || room["join_rule"] != "public") {
			t.Fatalf("bRoom as B described it: %v", room)
		}
	}

	// Once bob (of B) is in root, B knows A is, and shows A the
	// restricted room; A shows it to alice (in root), not to carol.
	_, err := bob.JoinRoom(roomsCtx, string(root), &mautrix.ReqJoinRoom{Via: viaA})
	roomsNoErr(t, err)
	testutil.Eventually(t, 30*time.Second, "the restricted room of B in alice's hierarchy", func() bool {
		ids, _, _ := spacesHierarchy(t, alice, root, "")
		return spacesNames(ids, names) == "root,aRoom,bSpace,bRoom,aBack,bRestricted"
	})
	if ids, _, _ := spacesHierarchy(t, carol, root, ""); spacesNames(ids, names) != "root,aRoom,bSpace,bRoom,aBack" {
		t.Fatalf("carol (not in root) sees %s", spacesNames(ids, names))
	}

	summary := func(c *mautrix.Client, target string, via ...string) roomsRaw {
		q := url.Values{"via": via}
		return roomsDo(t, c, "GET", "/_matrix/client/v1/room_summary/"+url.PathEscape(target)+"?"+q.Encode(), nil)
	}
	s := summary(carol, string(bRoom), b.Cfg.ServerName)
	if s.Status != 200 || s.Body["room_id"] != string(bRoom) || s.Body["name"] != "bRoom" || s.Body["encryption"] != "m.megolm.v1.aes-sha2" ||
		s.Body["room_version"] == nil || s.Body["membership"] != nil || s.Body["children_state"] != nil {
		t.Fatalf("summary of B's room: %d %v", s.Status, s.Body)
	}
	if s := summary(carol, "#bravo:"+b.Cfg.ServerName); s.Status != 200 || s.Body["room_id"] != string(bRoom) {
		t.Fatalf("summary by B's alias: %d %v", s.Status, s.Body)
	}
	s = summary(alice, string(bRestricted), b.Cfg.ServerName)
	allowed, _ := s.Body["allowed_room_ids"].([]any)
	if s.Status != 200 || s.Body["join_rule"] != "restricted" || len(allowed) != 1 || allowed[0] != string(root) || s.Body["room_version"] != "10" {
		t.Fatalf("summary of B's restricted room for alice: %d %v", s.Status, s.Body)
	}
	if s := summary(carol, string(bRestricted), b.Cfg.ServerName); s.Status != 404 {
		t.Fatalf("summary of B's restricted room for carol: %d %v", s.Status, s.Body)
	}
	if s := summary(alice, string(bSecret), b.Cfg.ServerName); s.Status != 404 || s.errcode() != "M_NOT_FOUND" {
		t.Fatalf("summary of B's invite-only room: %d %v", s.Status, s.Body)
	}
	if s := summary(alice, "!unknown:"+b.Cfg.ServerName); s.Status != 404 {
		t.Fatalf("summary of a room B does not know: %d %v", s.Status, s.Body)
	}
	if s := summary(alice, string(aRoom), "bad/server"); s.Status != 400 {
		t.Fatalf("bad via: %d %v", s.Status, s.Body)
	}

	// An invite-only space of B (room v12: no server in its ID) that
	// carol of A is invited to: A asks the inviter's server, B lets A see
	// it because a user of A is invited; dave of A sees nothing.
	dave := a.Register("dave", "password1")
	bPriv := mk(bob, "bPriv", mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: "12", CreationContent: space})
	spacesLink(t, bob, bPriv, bRoom, map[string]any{"via": viaB})
	_, err = bob.InviteUser(roomsCtx, bPriv, &mautrix.ReqInviteUser{UserID: carol.UserID})
	roomsNoErr(t, err)
	testutil.Eventually(t, 30*time.Second, "carol's view of the space she is invited to", func() bool {
		r := roomsDo(t, carol, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(bPriv))+"/hierarchy", nil)
		return r.Status == 200
	})
	if ids, _, r := spacesHierarchy(t, carol, bPriv, ""); spacesNames(ids, names) != "bPriv,bRoom" {
		t.Fatalf("carol's hierarchy of bPriv: %s %v", spacesNames(ids, names), r.Body)
	}
	if s := summary(carol, string(bPriv)); s.Status != 200 || s.Body["name"] != "bPriv" || s.Body["membership"] != "invite" || s.Body["room_type"] != "m.space" {
		t.Fatalf("carol's summary of bPriv: %d %v", s.Status, s.Body)
	}
	if r := roomsDo(t, dave, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(bPriv))+"/hierarchy", nil); r.Status != 403 {
		t.Fatalf("dave's hierarchy of bPriv: %d %v", r.Status, r.Body)
	}

	// B is gone: its answers are still used for a while, and a room only
	// B could describe is left out.
	spacesLink(t, alice, root, id.RoomID("!gone:"+b.Cfg.ServerName), map[string]any{"via": viaB})
	b.Stop()
	if s := summary(carol, string(bRoom), b.Cfg.ServerName); s.Status != 200 || s.Body["name"] != "bRoom" {
		t.Fatalf("summary from the cache: %d %v", s.Status, s.Body)
	}
	if ids, _, _ := spacesHierarchy(t, carol, root, ""); spacesNames(ids, names) != "root,aRoom,bSpace,bRoom,aBack" {
		t.Fatalf("hierarchy from the cache: %s", spacesNames(ids, names))
	}
}
