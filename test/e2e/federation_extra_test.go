package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

// An OpenID token from A's client API is checked on A's federation
// userinfo endpoint (not X-Matrix signed); tokens for others are refused.
func TestFederationOpenID(t *testing.T) {
	a := fedStart(t, testserver.Options{}, "127.0.0.1")
	alice, bob := a.Register("alice", "password123"), a.Register("bob", "password123")

	r := roomsDo(t, alice, "POST", "/_matrix/client/v3/user/"+url.PathEscape(string(alice.UserID))+"/openid/request_token", map[string]any{})
	if r.Status != 200 || r.Body["token_type"] != "Bearer" || r.Body["matrix_server_name"] != a.Cfg.ServerName || r.Body["expires_in"] != float64(3600) {
		t.Fatalf("request_token: %d %v", r.Status, r.Body)
	}
	token, _ := r.Body["access_token"].(string)
	if other := roomsDo(t, bob, "POST", "/_matrix/client/v3/user/"+url.PathEscape(string(alice.UserID))+"/openid/request_token", map[string]any{}); other.Status != 403 || other.errcode() != "M_FORBIDDEN" {
		t.Fatalf("token for someone else: %d %v", other.Status, other.Body)
	}

	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
	userinfo := func(tok string) (int, map[string]any) {
		resp, err := https.Get(a.FederationURL() + "/_matrix/federation/v1/openid/userinfo?access_token=" + url.QueryEscape(tok))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		must(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	if code, body := userinfo(token); code != 200 || body["sub"] != string(alice.UserID) {
		t.Fatalf("userinfo: %d %v", code, body)
	}
	for _, bad := range []string{"nonsense", ""} {
		if code, body := userinfo(bad); code != 401 || body["errcode"] != "M_UNKNOWN_TOKEN" {
			t.Fatalf("userinfo with %q: %d %v", bad, code, body)
		}
	}
}

// B asks A over federation for a space's hierarchy: the accessible child
// is summarised, the invite-only one listed as inaccessible, the unknown
// one left out; suggested_only keeps only suggested links.
func TestFederationHierarchy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice := a.Register("alice", "password123")
	space := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "the space", CreationContent: map[string]any{"type": "m.space"}})
	open := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "open child"})
	closed := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "closed child"})
	unknown := "!unknown:" + a.Cfg.ServerName
	via := []string{a.Cfg.ServerName}
	for child, suggested := range map[string]bool{string(open): true, string(closed): false, unknown: false} {
		if _, err := alice.SendStateEvent(ctx, space, event.StateSpaceChild, child, map[string]any{"via": via, "suggested": suggested}); err != nil {
			t.Fatal(err)
		}
	}
	nameA, nameB := spec.ServerName(a.Cfg.ServerName), spec.ServerName(b.Cfg.ServerName)

	h, err := b.Server.Fed.Client.RoomHierarchy(ctx, nameB, nameA, string(space), false)
	if err != nil {
		t.Fatalf("hierarchy: %v", err)
	}
	if h.Room.RoomID != string(space) || h.Room.Name != "the space" || h.Room.RoomType != "m.space" || len(h.Room.ChildrenState) != 3 {
		t.Fatalf("room: %+v", h.Room)
	}
	if len(h.Children) != 1 || h.Children[0].RoomID != string(open) || h.Children[0].Name != "open child" {
		t.Fatalf("children: %+v", h.Children)
	}
	if !slices.Equal(h.InaccessibleChildren, []string{string(closed)}) {
		t.Fatalf("inaccessible: %v", h.InaccessibleChildren)
	}

	h, err = b.Server.Fed.Client.RoomHierarchy(ctx, nameB, nameA, string(space), true)
	if err != nil {
		t.Fatalf("suggested hierarchy: %v", err)
	}
	if len(h.Room.ChildrenState) != 1 || h.Room.ChildrenState[0].StateKey != string(open) || len(h.Children) != 1 || len(h.InaccessibleChildren) != 0 {
		t.Fatalf("suggested only: %+v", h)
	}

	if _, err := b.Server.Fed.Client.RoomHierarchy(ctx, nameB, nameA, string(closed), false); err == nil {
		t.Fatal("hierarchy of an invite-only room was served")
	}
	if _, err := b.Server.Fed.Client.RoomHierarchy(ctx, nameB, nameA, unknown, false); err == nil {
		t.Fatal("hierarchy of an unknown room was served")
	}
}

// bob@B knocks on a knock-only room of A through /knock with server_name;
// alice sees the knock, lets him in with an invite, and he joins.
func TestFederationKnock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat", RoomVersion: "10"})
	if _, err := alice.SendStateEvent(ctx, room, event.StateJoinRules, "", map[string]string{"join_rule": "knock"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.KnockRoom(ctx, string(room), &mautrix.ReqKnockRoom{Reason: "let me in", Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob knocks over federation: %v", err)
	}
	as := newFedSyncer(t, alice)
	as.until(20*time.Second, "bob's knock on A", func() bool { return as.membershipOf(room, bob.UserID) == "knock" })
	if m := roomsStateContent(t, alice, room, "m.room.member", string(bob.UserID)); m["reason"] != "let me in" {
		t.Fatalf("knock on A: %v", m)
	}

	if _, err := alice.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("alice invites the knocker: %v", err)
	}
	if _, err := bob.JoinRoomByID(ctx, room); err != nil {
		t.Fatalf("bob joins after the invite: %v", err)
	}
	as.until(20*time.Second, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })

	// A knock on a room whose server does not answer fails cleanly.
	if _, err := bob.KnockRoom(ctx, "!nowhere:127.0.0.9:1", &mautrix.ReqKnockRoom{}); err == nil {
		t.Fatal("knock through an unreachable server succeeded")
	}
}
