package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestFederationLookups: two Axons answer each other's profile and alias
// lookups; 404 only when the other server said so, and an unreachable
// server's error shows no addresses.
func TestFederationLookups(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
		alice := a.Register("alice", "password1")
		bob := b.Register("bob", "password1")
		if err := bob.SetDisplayName(syncCtx, "Bob on B"); err != nil {
			t.Fatal(err)
		}
		room := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "lobby"})

		p := roomsDo(t, alice, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(bob.UserID.String()), nil)
		if p.Status != 200 || p.Body["displayname"] != "Bob on B" {
			t.Fatalf("remote profile: %d %v", p.Status, p.Body)
		}
		f := roomsDo(t, alice, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(bob.UserID.String())+"/displayname", nil)
		if f.Status != 200 || f.Body["displayname"] != "Bob on B" || len(f.Body) != 1 {
			t.Fatalf("remote displayname: %d %v", f.Status, f.Body)
		}
		missing := "@nobody:" + b.Cfg.ServerName
		if r := roomsDo(t, alice, "GET", "/_matrix/client/v3/profile/"+url.PathEscape(missing), nil); r.Status != 404 || r.errcode() != "M_NOT_FOUND" {
			t.Fatalf("unknown remote user: %d %v", r.Status, r.Body)
		}

		alias := "#lobby:" + b.Cfg.ServerName
		d := roomsDo(t, alice, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape(alias), nil)
		servers := anyStrings(d.Body["servers"])
		if d.Status != 200 || d.Body["room_id"] != room.String() || len(servers) == 0 || servers[0] != b.Cfg.ServerName {
			t.Fatalf("remote alias: %d %v", d.Status, d.Body)
		}
		if r := roomsDo(t, alice, "GET", "/_matrix/client/v3/directory/room/"+url.PathEscape("#nope:"+b.Cfg.ServerName), nil); r.Status != 404 || r.errcode() != "M_NOT_FOUND" {
			t.Fatalf("unknown remote alias: %d %v", r.Status, r.Body)
		}

		// A server that does not answer: a gateway error naming it, no addresses.
		req, _ := http.NewRequest("GET", a.URL+"/_matrix/client/v3/profile/"+url.PathEscape("@x:127.0.0.9:1"), nil)
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		resp, err := roomsHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		msg, _ := body["error"].(string)
		if err != nil || resp.StatusCode != 502 || body["errcode"] != "M_UNKNOWN" || strings.Contains(msg, "dial") || strings.Contains(msg, "refused") {
			t.Fatalf("unreachable server: %d %v %v", resp.StatusCode, body, err)
		}
	})
}
