package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// spacesHierarchy GETs a hierarchy page and returns the room IDs in
// order, each room's child links and the body.
func spacesHierarchy(t *testing.T, c *mautrix.Client, root id.RoomID, query string) ([]string, map[string][]string, roomsRaw) {
	t.Helper()
	r := roomsDo(t, c, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(root))+"/hierarchy"+query, nil)
	if r.Status != 200 {
		t.Fatalf("hierarchy %s%s: %d %v", root, query, r.Status, r.Body)
	}
	var ids []string
	links := map[string][]string{}
	rooms, _ := r.Body["rooms"].([]any)
	for _, x := range rooms {
		room := x.(map[string]any)
		rid := room["room_id"].(string)
		ids = append(ids, rid)
		cs, ok := room["children_state"].([]any)
		if !ok {
			t.Fatalf("room %s without children_state: %v", rid, room)
		}
		for _, c := range cs {
			links[rid] = append(links[rid], c.(map[string]any)["state_key"].(string))
		}
	}
	return ids, links, r
}

// spacesLink sends parent's m.space.child link to child. Links without
// an order key are walked by their timestamps, ties by room ID (spec),
// and two links sent within one millisecond tie: the clock is let pass
// the link's millisecond first, so links sent one after the other are
// walked in the order sent, as the tests expect.
func spacesLink(t testing.TB, c *mautrix.Client, parent, child id.RoomID, content map[string]any) {
	t.Helper()
	_, err := c.SendStateEvent(roomsCtx, parent, event.StateSpaceChild, string(child), content)
	roomsNoErr(t, err)
	sentBy := time.Now().UnixMilli() // the servers share this machine's clock
	testutil.Eventually(t, time.Second, "the clock past the link's millisecond", func() bool {
		return time.Now().UnixMilli() > sentBy
	})
}

func spacesNames(ids []string, names map[string]string) string {
	var out []string
	for _, i := range ids {
		if n, ok := names[i]; ok {
			out = append(out, n)
		} else {
			out = append(out, i)
		}
	}
	return strings.Join(out, ",")
}

// TestSpacesHierarchy walks a local space tree depth-first in the spec's
// child order (order keys first, then link time), does not follow the
// links of a room that is not a space, honours max_depth, suggested_only
// and pagination (the token is bound to its options), hides invite-only
// rooms until the user is invited and restricted rooms until the user
// is in an allowed room, never shows rooms the user is banned from, and
// drops removed links.
func TestSpacesHierarchy(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	hs := inst.Cfg.ServerName
	via := []string{hs}
	names := map[string]string{}
	mk := func(name, preset string, space bool, extra ...mautrix.ReqCreateRoom) id.RoomID {
		req := &mautrix.ReqCreateRoom{Preset: preset, Name: name}
		if len(extra) > 0 {
			req = &extra[0]
			req.Name = name
		}
		if space {
			req.CreationContent = map[string]any{"type": "m.space"}
		}
		rid := roomsCreate(t, alice, req)
		names[string(rid)] = name
		return rid
	}
	root := mk("root", "public_chat", true)
	a := mk("a", "public_chat", false)
	sub := mk("sub", "public_chat", true)
	b := mk("b", "public_chat", false)
	deep := mk("deep", "public_chat", false)
	secret := mk("secret", "private_chat", false)
	notSpaceChild := mk("notspacechild", "public_chat", false)
	restricted := mk("restricted", "", false, mautrix.ReqCreateRoom{RoomVersion: "10", InitialState: []*event.Event{{
		Type: event.StateJoinRules, Content: event.Content{Raw: map[string]any{
			"join_rule": "restricted", "allow": []map[string]any{{"type": "m.room_membership", "room_id": string(sub)}}}}}}})

	// Links of root, sent in this order: b (no order key), sub (order "m"),
	// a (order "a", suggested), secret. Order keys come first, then time.
	spacesLink(t, alice, root, b, map[string]any{"via": via})
	spacesLink(t, alice, root, sub, map[string]any{"via": via, "order": "m"})
	spacesLink(t, alice, root, a, map[string]any{"via": via, "order": "a", "suggested": true})
	spacesLink(t, alice, root, secret, map[string]any{"via": via})
	spacesLink(t, alice, sub, deep, map[string]any{"via": via})
	spacesLink(t, alice, sub, restricted, map[string]any{"via": via})
	spacesLink(t, alice, a, notSpaceChild, map[string]any{"via": via}) // a is no space: not followed
	spacesLink(t, alice, sub, root, map[string]any{"via": via})        // a loop

	ids, links, _ := spacesHierarchy(t, bob, root, "")
	if got, want := spacesNames(ids, names), "root,a,sub,deep,b"; got != want {
		t.Fatalf("bob's walk %s, want %s", got, want)
	}
	if !slices.Equal(links[string(root)], []string{string(a), string(sub), string(b), string(secret)}) || len(links[string(a)]) != 0 || len(links[string(sub)]) != 3 {
		t.Fatalf("children_state %v", links)
	}

	ids, _, _ = spacesHierarchy(t, alice, root, "")
	if got, want := spacesNames(ids, names), "root,a,sub,deep,restricted,b,secret"; got != want {
		t.Fatalf("alice's walk %s, want %s", got, want)
	}

	// max_depth 1: root's children, sub's links still listed.
	ids, links, _ = spacesHierarchy(t, alice, root, "?max_depth=1")
	if got, want := spacesNames(ids, names), "root,a,sub,b,secret"; got != want || len(links[string(sub)]) != 3 {
		t.Fatalf("max_depth=1: %s (want %s), links %v", got, want, links)
	}
	ids, _, _ = spacesHierarchy(t, alice, root, "?max_depth=0")
	if got := spacesNames(ids, names); got != "root" {
		t.Fatalf("max_depth=0: %s", got)
	}

	// suggested_only: only a, and root lists only that link.
	ids, links, _ = spacesHierarchy(t, alice, root, "?suggested_only=true")
	if got := spacesNames(ids, names); got != "root,a" || !slices.Equal(links[string(root)], []string{string(a)}) {
		t.Fatalf("suggested_only: %s, links %v", got, links)
	}

	// Pages of 2 make up the whole walk; the token keeps its options.
	var all []string
	query := "?limit=2"
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		ids, _, r := spacesHierarchy(t, alice, root, query)
		if len(ids) > 2 {
			t.Fatalf("page of %d rooms with limit 2", len(ids))
		}
		all = append(all, ids...)
		next, _ := r.Body["next_batch"].(string)
		if next == "" {
			break
		}
		if page == 0 {
			bad := roomsDo(t, alice, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(root))+"/hierarchy?suggested_only=true&from="+url.QueryEscape(next), nil)
			if bad.Status != 400 || bad.errcode() != "M_INVALID_PARAM" {
				t.Fatalf("token with other options: %d %v", bad.Status, bad.Body)
			}
		}
		query = "?limit=2&from=" + url.QueryEscape(next)
	}
	if got, want := spacesNames(all, names), "root,a,sub,deep,restricted,b,secret"; got != want {
		t.Fatalf("pages %s, want %s", got, want)
	}

	for _, q := range []string{"?limit=0", "?limit=x", "?max_depth=-1", "?from=nonsense", "?suggested_only=maybe"} {
		if r := roomsDo(t, alice, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(root))+"/hierarchy"+q, nil); r.Status != 400 {
			t.Errorf("%s: %d %v", q, r.Status, r.Body)
		}
	}
	if r := roomsDo(t, bob, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(secret))+"/hierarchy", nil); r.Status != 403 {
		t.Fatalf("hierarchy of a room bob cannot see: %d %v", r.Status, r.Body)
	}

	// bob joins sub: the restricted room (allowed via sub) appears; an
	// invite shows the invite-only room.
	_, err := bob.JoinRoomByID(roomsCtx, sub)
	roomsNoErr(t, err)
	_, err = alice.InviteUser(roomsCtx, secret, &mautrix.ReqInviteUser{UserID: bob.UserID})
	roomsNoErr(t, err)
	ids, _, _ = spacesHierarchy(t, bob, root, "")
	if got, want := spacesNames(ids, names), "root,a,sub,deep,restricted,b,secret"; got != want {
		t.Fatalf("bob in sub and invited: %s, want %s", got, want)
	}

	// A link with empty content is removed.
	spacesLink(t, alice, root, sub, map[string]any{})
	ids, links, _ = spacesHierarchy(t, bob, root, "")
	if got, want := spacesNames(ids, names), "root,a,b,secret"; got != want || len(links[string(root)]) != 3 {
		t.Fatalf("after removing sub: %s (want %s), links %v", got, want, links)
	}

	// Banned from a public room: it is not shown (nor is a banned root).
	_, err = alice.BanUser(roomsCtx, b, &mautrix.ReqBanUser{UserID: bob.UserID})
	roomsNoErr(t, err)
	if ids, _, _ = spacesHierarchy(t, bob, root, ""); spacesNames(ids, names) != "root,a,secret" {
		t.Fatalf("bob banned from b: %s", spacesNames(ids, names))
	}
	if r := roomsDo(t, bob, "GET", "/_matrix/client/v1/rooms/"+url.PathEscape(string(b))+"/hierarchy", nil); r.Status != 403 {
		t.Fatalf("hierarchy of a room bob is banned from: %d %v", r.Status, r.Body)
	}
}
