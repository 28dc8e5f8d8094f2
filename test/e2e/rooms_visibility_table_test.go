package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/server/testserver"
)

// The visibility table: for every history visibility value and every
// way bob's membership ends (stays joined, leaves, is kicked, is banned),
// every read path shows bob exactly the messages the spec's rules allow
// (client-server "Room history visibility"), and none of the room's state
// from after he left (a new name, a member who joined later).
//
// Read paths: /messages, /threads, /event, /relations, /search,
// /context, /state, /members, /sync (with left rooms), sliding sync.
//
// Bob's story in each room: alice sends "pre" (bob not in the room),
// invites bob, sends "invited", bob joins, alice sends "during", bob's
// membership ends, alice sends "after", renames the room and carol joins.
// Each message is a thread root with one reply from the same moment.

var visPhases = []string{"pre", "invited", "during", "after"}

// visExpected is the spec's table, written out independently of the
// server's rule: which phases bob may see.
func visExpected(visibility, ending string) map[string]bool {
	wr := visibility == "world_readable"
	return map[string]bool{
		"pre":     wr || visibility == "shared",
		"invited": wr || visibility == "shared" || visibility == "invited",
		"during":  true,
		"after":   wr || ending == "stays",
	}
}

type visRoom struct {
	id         id.RoomID
	visibility string
	ending     string
	roots      map[string]id.EventID // phase -> thread root
}

func TestRoomsVisibilityTable(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		carol := inst.Register("carol", "password123")
		var rooms []*visRoom
		for _, vis := range []string{"world_readable", "shared", "invited", "joined"} {
			for _, ending := range []string{"stays", "leave", "kick", "ban"} {
				rooms = append(rooms, visSetUp(t, alice, bob, carol, vis, ending))
			}
		}
		for _, r := range rooms {
			t.Run(r.visibility+"/"+r.ending, func(t *testing.T) { visCheck(t, bob, r) })
		}
		visCheckSync(t, bob, rooms)
	})
}

func visSetUp(t *testing.T, alice, bob, carol *mautrix.Client, visibility, ending string) *visRoom {
	t.Helper()
	r := &visRoom{visibility: visibility, ending: ending, roots: map[string]id.EventID{}}
	r.id = roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "old-name",
		InitialState: []*event.Event{{Type: event.StateHistoryVisibility, StateKey: new(string),
			Content: event.Content{Raw: map[string]any{"history_visibility": visibility}}}}})
	say := func(phase string) {
		resp, err := alice.SendMessageEvent(roomsCtx, r.id, event.EventMessage, map[string]any{"msgtype": "m.text", "body": phase})
		roomsNoErr(t, err)
		r.roots[phase] = resp.EventID
		_, err = alice.SendMessageEvent(roomsCtx, r.id, event.EventMessage, map[string]any{"msgtype": "m.text", "body": phase + "-reply",
			"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": resp.EventID}})
		roomsNoErr(t, err)
	}
	say("pre")
	_, err := alice.InviteUser(roomsCtx, r.id, &mautrix.ReqInviteUser{UserID: bob.UserID})
	roomsNoErr(t, err)
	say("invited")
	_, err = bob.JoinRoomByID(roomsCtx, r.id)
	roomsNoErr(t, err)
	say("during")
	switch ending {
	case "leave":
		_, err = bob.LeaveRoom(roomsCtx, r.id)
	case "kick":
		_, err = alice.KickUser(roomsCtx, r.id, &mautrix.ReqKickUser{UserID: bob.UserID})
	case "ban":
		_, err = alice.BanUser(roomsCtx, r.id, &mautrix.ReqBanUser{UserID: bob.UserID})
	}
	roomsNoErr(t, err)
	say("after")
	_, err = alice.SendStateEvent(roomsCtx, r.id, event.StateRoomName, "", map[string]any{"name": "secret-name"})
	roomsNoErr(t, err)
	_, err = carol.JoinRoomByID(roomsCtx, r.id)
	roomsNoErr(t, err)
	return r
}

// visBodies lists the message bodies among events (JSON objects).
func visBodies(events []any) []string {
	var out []string
	for _, e := range events {
		ev, _ := e.(map[string]any)
		if ev["type"] != "m.room.message" {
			continue
		}
		c, _ := ev["content"].(map[string]any)
		if b, ok := c["body"].(string); ok {
			out = append(out, b)
		}
	}
	sort.Strings(out)
	return out
}

// visAllowed: may bob see the message with this body?
func (r *visRoom) visAllowed(body string) bool {
	return visExpected(r.visibility, r.ending)[strings.TrimSuffix(body, "-reply")]
}

// hidesLater: must bob be kept from the room's state after he left?
func (r *visRoom) hidesLater() bool { return r.ending != "stays" && r.visibility != "world_readable" }

func (r *visRoom) wantBodies() []string {
	var want []string
	for _, p := range visPhases {
		if visExpected(r.visibility, r.ending)[p] {
			want = append(want, p, p+"-reply")
		}
	}
	sort.Strings(want)
	return want
}

// visCheckState fails if state (events) shows what happened after bob left.
func (r *visRoom) visCheckState(t *testing.T, what string, state []any) {
	t.Helper()
	if !r.hidesLater() {
		return
	}
	for _, e := range state {
		ev, _ := e.(map[string]any)
		c, _ := ev["content"].(map[string]any)
		if ev["type"] == "m.room.name" && c["name"] != "old-name" {
			t.Fatalf("%s: room name %v set after bob left", what, c["name"])
		}
		if ev["type"] == "m.room.member" && strings.HasPrefix(fmt.Sprint(ev["state_key"]), "@carol:") {
			t.Fatalf("%s: carol, who joined after bob left, is in the state", what)
		}
	}
}

func visCheck(t *testing.T, bob *mautrix.Client, r *visRoom) {
	base := "/_matrix/client/v3/rooms/" + url.PathEscape(string(r.id))
	v1 := "/_matrix/client/v1/rooms/" + url.PathEscape(string(r.id))
	want := r.wantBodies()

	// /messages
	m := roomsDo(t, bob, "GET", base+"/messages?dir=b&limit=100", nil)
	if m.Status != 200 {
		t.Fatalf("/messages: %d %v", m.Status, m.Body)
	}
	chunk, _ := m.Body["chunk"].([]any)
	if got := visBodies(chunk); !slices.Equal(got, want) {
		t.Fatalf("/messages shows %v, want %v", got, want)
	}

	// /threads
	th := roomsDo(t, bob, "GET", v1+"/threads", nil)
	if th.Status != 200 {
		t.Fatalf("/threads: %d %v", th.Status, th.Body)
	}
	roots, _ := th.Body["chunk"].([]any)
	var wantRoots []string
	for _, p := range visPhases {
		if visExpected(r.visibility, r.ending)[p] {
			wantRoots = append(wantRoots, p)
		}
	}
	sort.Strings(wantRoots)
	if got := visBodies(roots); !slices.Equal(got, wantRoots) {
		t.Fatalf("/threads shows %v, want %v", got, wantRoots)
	}
	for _, root := range roots {
		latest := fmt.Sprint(root.(map[string]any)["unsigned"])
		if strings.Contains(latest, "after-reply") && !r.visAllowed("after") {
			t.Fatalf("/threads summary shows a reply from after bob left: %s", latest)
		}
	}

	for _, phase := range visPhases {
		allowed := visExpected(r.visibility, r.ending)[phase]
		root := url.PathEscape(string(r.roots[phase]))
		wantStatus := 404
		if allowed {
			wantStatus = 200
		}
		// /event
		if e := roomsDo(t, bob, "GET", base+"/event/"+root, nil); e.Status != wantStatus {
			t.Fatalf("/event of %q: %d, want %d", phase, e.Status, wantStatus)
		}
		// /relations
		rel := roomsDo(t, bob, "GET", v1+"/relations/"+root, nil)
		if rel.Status != wantStatus {
			t.Fatalf("/relations of %q: %d, want %d", phase, rel.Status, wantStatus)
		}
		if allowed {
			c, _ := rel.Body["chunk"].([]any)
			if got := visBodies(c); !slices.Equal(got, []string{phase + "-reply"}) {
				t.Fatalf("/relations of %q: %v", phase, got)
			}
		}
		// /search
		sr := roomsDo(t, bob, "POST", "/_matrix/client/v3/search", map[string]any{"search_categories": map[string]any{
			"room_events": map[string]any{"search_term": phase, "filter": map[string]any{"rooms": []string{string(r.id)}}}}})
		if sr.Status != 200 {
			t.Fatalf("/search %q: %d %v", phase, sr.Status, sr.Body)
		}
		var found []any
		if cats, ok := sr.Body["search_categories"].(map[string]any); ok {
			if re, ok := cats["room_events"].(map[string]any); ok {
				results, _ := re["results"].([]any)
				for _, res := range results {
					found = append(found, res.(map[string]any)["result"])
				}
			}
		}
		got := visBodies(found)
		if allowed && !slices.Equal(got, []string{phase, phase + "-reply"}) || !allowed && len(got) > 0 {
			t.Fatalf("/search %q shows %v (allowed: %v)", phase, got, allowed)
		}
		// /context
		c := roomsDo(t, bob, "GET", base+"/context/"+root+"?limit=100", nil)
		if c.Status != wantStatus {
			t.Fatalf("/context of %q: %d, want %d", phase, c.Status, wantStatus)
		}
		if allowed {
			before, _ := c.Body["events_before"].([]any)
			after, _ := c.Body["events_after"].([]any)
			for _, b := range append(visBodies(before), visBodies(after)...) {
				if !r.visAllowed(b) {
					t.Fatalf("/context of %q shows %q", phase, b)
				}
			}
			state, _ := c.Body["state"].([]any)
			r.visCheckState(t, "/context of "+phase, state)
		}
	}

	// /state and /members stop at the leave.
	if r.hidesLater() {
		var state []any
		if _, err := bob.MakeFullRequest(roomsCtx, mautrix.FullRequest{Method: "GET", URL: bob.BuildClientURL("v3", "rooms", r.id, "state"), ResponseJSON: &state}); err != nil {
			t.Fatalf("/state: %v", err)
		}
		r.visCheckState(t, "/state", state)
		mem := roomsDo(t, bob, "GET", base+"/members", nil)
		chunk, _ := mem.Body["chunk"].([]any)
		r.visCheckState(t, "/members", chunk)
	}
}

// visCheckSync: /sync (with left rooms) and sliding sync show bob only
// allowed messages and nothing from after he left.
func visCheckSync(t *testing.T, bob *mautrix.Client, rooms []*visRoom) {
	filter := url.QueryEscape(`{"room":{"include_leave":true,"timeline":{"limit":100}}}`)
	s := roomsDo(t, bob, "GET", "/_matrix/client/v3/sync?filter="+filter, nil)
	if s.Status != 200 {
		t.Fatalf("/sync: %d %v", s.Status, s.Body)
	}
	sections, _ := s.Body["rooms"].(map[string]any)
	sliding := roomsDo(t, bob, "POST", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", map[string]any{
		"lists": map[string]any{"all": map[string]any{"ranges": [][2]int{{0, 99}}, "timeline_limit": 100, "required_state": [][2]string{{"*", "*"}}}},
	})
	if sliding.Status != 200 {
		t.Fatalf("sliding sync: %d %v", sliding.Status, sliding.Body)
	}
	slidingRooms, _ := sliding.Body["rooms"].(map[string]any)
	for _, r := range rooms {
		what := r.visibility + "/" + r.ending
		section := "join"
		if r.ending != "stays" {
			section = "leave"
		}
		sec, _ := sections[section].(map[string]any)
		room, ok := sec[string(r.id)].(map[string]any)
		if !ok {
			t.Fatalf("%s: /sync has no %s section for the room", what, section)
		}
		tl, _ := room["timeline"].(map[string]any)
		events, _ := tl["events"].([]any)
		for _, b := range visBodies(events) {
			if !r.visAllowed(b) || (r.ending != "stays" && strings.HasPrefix(b, "after")) {
				t.Fatalf("%s: /sync shows %q", what, b)
			}
		}
		if !slices.Contains(visBodies(events), "during") {
			t.Fatalf("%s: /sync timeline lacks bob's own time in the room: %v", what, visBodies(events))
		}
		st, _ := room["state"].(map[string]any)
		stateEvents, _ := st["events"].([]any)
		if r.ending != "stays" {
			r.visCheckState(t, what+" /sync state", append(stateEvents, events...))
		}
		if sr, ok := slidingRooms[string(r.id)].(map[string]any); ok {
			tl, _ := sr["timeline"].([]any)
			for _, b := range visBodies(tl) {
				if !r.visAllowed(b) {
					t.Fatalf("%s: sliding sync shows %q", what, b)
				}
			}
			rs, _ := sr["required_state"].([]any)
			r.visCheckState(t, what+" sliding sync state", append(rs, tl...))
		} else if r.ending == "stays" {
			t.Fatalf("%s: sliding sync lacks a joined room", what)
		}
	}
}
