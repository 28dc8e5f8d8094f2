package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestInputCreateRoomBounded: every list in a createRoom request is
// bounded (a 400 naming the field, before any work), null where an
// object is expected is no panic, and a room with many invites is
// created in steps that other rooms' events can pass between.
func TestInputCreateRoomBounded(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("creator", "password123")
		v3 := inst.URL + "/_matrix/client/v3"

		r := acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{"creation_content":null,"power_level_content_override":null}`)
		if r.Status != http.StatusOK || r.str("room_id") == "" {
			t.Fatalf("creation_content null: got %d %s", r.Status, r.Raw)
		}

		users := func(n int) string {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf(`"@u%d:example.org"`, i)
			}
			return "[" + strings.Join(ids, ",") + "]"
		}
		states := func(n int) string {
			evs := make([]string, n)
			for i := range evs {
				evs[i] = fmt.Sprintf(`{"type":"org.example.s","state_key":"%d","content":{}}`, i)
			}
			return "[" + strings.Join(evs, ",") + "]"
		}
		plUsers := func(n int) string {
			kv := make([]string, n)
			for i := range kv {
				kv[i] = fmt.Sprintf(`"@u%d:example.org":1`, i)
			}
			return `{"users":{` + strings.Join(kv, ",") + `}}`
		}
		threePID := func(n int) string {
			return "[" + strings.TrimSuffix(strings.Repeat(`{"id_server":"x","medium":"email","address":"a@b.c"},`, n), ",") + "]"
		}
		for name, body := range map[string]string{
			"invite":                       `{"invite":` + users(maxTestCreateInvites+1) + `}`,
			"invite_3pid":                  `{"invite_3pid":` + threePID(maxTestCreate3PID+1) + `}`,
			"initial_state":                `{"initial_state":` + states(maxTestCreateState+1) + `}`,
			"power_level_content_override": `{"power_level_content_override":` + plUsers(maxTestCreatePLUsers+1) + `}`,
		} {
			acctExpect(t, name+" over its bound", acctDo(t, "POST", v3+"/createRoom", c.AccessToken, body), http.StatusBadRequest, "M_BAD_JSON")
		}

		// 120 local invitees: more than one step of invites.
		var invitees []string
		for i := range 120 {
			invitees = append(invitees, fmt.Sprintf(`"@nobody%d:%s"`, i, inst.Cfg.ServerName))
		}
		r = acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{"invite":[`+strings.Join(invitees, ",")+`]}`)
		if r.Status != http.StatusOK {
			t.Fatalf("120 invites: %d %s", r.Status, r.Raw)
		}
		members := roomsDo(t, c, "GET", "/_matrix/client/v3/rooms/"+r.str("room_id")+"/members?membership=invite", nil)
		if chunk, _ := members.Body["chunk"].([]any); len(chunk) != 120 {
			t.Fatalf("%d invites in the room, want 120", len(chunk))
		}
	})
}

// The bounds as the server documents them (clientapi/room_create.go).
const (
	maxTestCreateInvites = 200
	maxTestCreate3PID    = 50
	maxTestCreateState   = 100
	maxTestCreatePLUsers = 500
)

// TestInputRateLimitedRoutes: createRoom, typing and to-device are
// rate-limited per user when rate limits are on.
func TestInputRateLimitedRoutes(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.RateLimits.Enabled = true
		cfg.RateLimits.Registration = config.Rate{PerSecond: 100, Burst: 100}
		cfg.RateLimits.RoomCreation = config.Rate{PerSecond: 0.001, Burst: 2}
		cfg.RateLimits.Typing = config.Rate{PerSecond: 0.001, Burst: 2}
		cfg.RateLimits.ToDevice = config.Rate{PerSecond: 0.001, Burst: 2}
	}})
	c := inst.Register("limited", "password123")
	v3 := inst.URL + "/_matrix/client/v3"
	room := acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{}`).str("room_id")
	acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{}`)
	acctExpect(t, "third createRoom", acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{}`), http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")

	typing := v3 + "/rooms/" + room + "/typing/" + string(c.UserID)
	for range 2 {
		acctExpect(t, "typing", acctDo(t, "PUT", typing, c.AccessToken, `{"typing":true,"timeout":1000}`), http.StatusOK, "")
	}
	acctExpect(t, "third typing", acctDo(t, "PUT", typing, c.AccessToken, `{"typing":true,"timeout":1000}`), http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")

	for i := range 2 {
		acctExpect(t, "to-device", acctDo(t, "PUT", fmt.Sprintf("%s/sendToDevice/m.x/t%d", v3, i), c.AccessToken, `{"messages":{}}`), http.StatusOK, "")
	}
	acctExpect(t, "third to-device", acctDo(t, "PUT", v3+"/sendToDevice/m.x/t9", c.AccessToken, `{"messages":{}}`), http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	// Another user has buckets of their own.
	d := inst.Register("other", "password123")
	acctExpect(t, "another user's createRoom", acctDo(t, "POST", v3+"/createRoom", d.AccessToken, `{}`), http.StatusOK, "")
}
