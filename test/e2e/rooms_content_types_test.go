package e2e

import (
	"net/http"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// contentTypeCases are state events whose content has a field of the
// wrong type; each must be refused with 400 M_BAD_JSON.
var contentTypeCases = []struct{ name, evType, content string }{
	{"name not a string", "m.room.name", `{"name":42}`},
	{"topic not a string", "m.room.topic", `{"topic":{"a":1}}`},
	{"alias not a string", "m.room.canonical_alias", `{"alias":true}`},
	{"alt_aliases not an array", "m.room.canonical_alias", `{"alt_aliases":"#a:b"}`},
	{"alt_aliases entry not a string", "m.room.canonical_alias", `{"alt_aliases":[1]}`},
	{"power level not an integer", "m.room.power_levels", `{"ban":"lots"}`},
	{"power level a fraction", "m.room.power_levels", `{"kick":1.5}`},
	{"users not an object", "m.room.power_levels", `{"users":[]}`},
	{"user level not an integer", "m.room.power_levels", `{"users":{"@a:b":"x"}}`},
	{"events level not an integer", "m.room.power_levels", `{"events":{"m.room.name":null}}`},
	{"notifications level not an integer", "m.room.power_levels", `{"notifications":{"room":[]}}`},
	{"join_rule not a string", "m.room.join_rules", `{"join_rule":1}`},
}

// TestRoomsStateContentTypes: wrongly typed content of the events the
// server reads (name, topic, canonical alias, power levels, join rules)
// is refused with 400 M_BAD_JSON both on PUT /state and in createRoom's
// initial_state, and well-typed content still passes.
func TestRoomsStateContentTypes(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("typer", "password123")
		v3 := inst.URL + "/_matrix/client/v3"
		r := acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{}`)
		if r.Status != http.StatusOK {
			t.Fatalf("createRoom: %d %s", r.Status, r.Raw)
		}
		roomID := r.str("room_id")
		for _, tc := range contentTypeCases {
			acctExpect(t, "PUT "+tc.name, acctDo(t, "PUT", v3+"/rooms/"+roomID+"/state/"+tc.evType+"/", c.AccessToken, tc.content), http.StatusBadRequest, "M_BAD_JSON")
			body := `{"initial_state":[{"type":"` + tc.evType + `","state_key":"","content":` + tc.content + `}]}`
			acctExpect(t, "createRoom "+tc.name, acctDo(t, "POST", v3+"/createRoom", c.AccessToken, body), http.StatusBadRequest, "M_BAD_JSON")
		}
		for evType, content := range map[string]string{
			"m.room.name":       `{"name":"ok"}`,
			"m.room.topic":      `{"topic":"ok"}`,
			"m.room.join_rules": `{"join_rule":"public"}`,
		} {
			if r := acctDo(t, "PUT", v3+"/rooms/"+roomID+"/state/"+evType+"/", c.AccessToken, content); r.Status != http.StatusOK {
				t.Fatalf("PUT well-typed %s: %d %s", evType, r.Status, r.Raw)
			}
		}
		// An allow that is not a list is accepted and grants nothing (as
		// other servers do; Complement's "mangled join rules" sends one):
		// TestFederationRestrictedJoin checks that such a room refuses the join.
		for _, content := range []string{`{"join_rule":"restricted","allow":"invalid"}`, `{"join_rule":"restricted","allow":["invalid"]}`} {
			if r := acctDo(t, "PUT", v3+"/rooms/"+roomID+"/state/m.room.join_rules/", c.AccessToken, content); r.Status != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", content, r.Status, r.Raw)
			}
		}
	})
}
