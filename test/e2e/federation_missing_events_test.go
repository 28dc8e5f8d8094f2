package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// get_missing_events hands another server only what its users may see
// under the history visibility at each event: a message sent before it
// joined a "joined" room comes back redacted, one in a "shared" room in
// full (Complement TestInboundCanReturnMissingEvents).
func TestFederationMissingEventsFollowHistoryVisibility(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := fedPair(t)
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	for _, c := range []struct {
		visibility string
		redacted   bool
	}{{"joined", true}, {"invited", true}, {"shared", false}, {"world_readable", false}} {
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if _, err := alice.SendStateEvent(ctx, room, event.StateHistoryVisibility, "", map[string]string{"history_visibility": c.visibility}); err != nil {
			t.Fatal(err)
		}
		msgID := syncSend(t, alice, room, "before bob")
		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("bob joins: %v", err)
		}
		createID, joinID := stateEventID(t, alice, room, "m.room.create", ""), stateEventID(t, alice, room, "m.room.member", bob.UserID.String())
		var resp struct {
			Events []json.RawMessage `json:"events"`
		}
		path := "/_matrix/federation/v1/get_missing_events/" + url.PathEscape(room.String())
		body := map[string]any{"earliest_events": []string{createID}, "latest_events": []string{joinID}, "limit": 20, "min_depth": 1}
		if err := signedRequest(ctx, b, spec.ServerName(a.Cfg.ServerName), http.MethodPost, path, body, &resp); err != nil {
			t.Fatalf("%s: get_missing_events: %v", c.visibility, err)
		}
		found := false
		for _, raw := range resp.Events {
			var ev struct {
				EventID string         `json:"event_id"`
				Type    string         `json:"type"`
				Content map[string]any `json:"content"`
			}
			must(t, json.Unmarshal(raw, &ev))
			if ev.Type != "m.room.message" {
				continue
			}
			found = true
			if _, hasBody := ev.Content["body"]; hasBody == c.redacted {
				t.Errorf("%s: message content %v, want redacted=%v", c.visibility, ev.Content, c.redacted)
			}
		}
		if !found {
			t.Errorf("%s: message %s not among the missing events", c.visibility, msgID)
		}
	}
}

// stateEventID reads the event ID of one state event through /state.
func stateEventID(t testing.TB, c *mautrix.Client, room id.RoomID, typ, stateKey string) string {
	t.Helper()
	evs, err := c.State(context.Background(), room)
	must(t, err)
	ev := evs[event.Type{Type: typ, Class: event.StateEventType}][stateKey]
	if ev == nil {
		t.Fatalf("no %s/%s in %s", typ, stateKey, room)
	}
	return ev.ID.String()
}
