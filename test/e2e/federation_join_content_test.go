package e2e

import (
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

// A join over federation keeps the /join body's custom keys in the member
// event, as a local join does.
func TestFederationJoinKeepsCustomContent(t *testing.T) {
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	r := roomsDo(t, bob, "POST", "/_matrix/client/v3/join/"+url.PathEscape(room.String())+"?via="+url.QueryEscape(a.Cfg.ServerName),
		map[string]any{"foo": "bar", "membership": "leave"})
	if r.Status != 200 {
		t.Fatalf("join over federation: %d %v", r.Status, r.Body)
	}
	as := newFedSyncer(t, alice)
	as.until(20*time.Second, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })
	c := roomsStateContent(t, alice, room, "m.room.member", bob.UserID.String())
	if c["foo"] != "bar" || c["membership"] != "join" {
		t.Fatalf("bob's member event on A: %v", c)
	}
}
