package e2e

import (
	"net"
	"net/http"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// TestRoomsServerACLNotSelf: an m.room.server_acl that would deny this
// server (by deny glob, by an allow list missing it, or by an IP
// literal name with allow_ip_literals false) is refused with 400, on
// PUT /state and in createRoom's initial_state; one that allows it passes.
func TestRoomsServerACLNotSelf(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("acler", "password123")
		v3 := inst.URL + "/_matrix/client/v3"
		host, _, err := net.SplitHostPort(inst.Cfg.ServerName)
		if err != nil {
			host = inst.Cfg.ServerName
		}
		r := acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{}`)
		if r.Status != http.StatusOK {
			t.Fatalf("createRoom: %d %s", r.Status, r.Raw)
		}
		roomID := r.str("room_id")
		for name, content := range map[string]string{
			"denied by glob":     `{"allow":["*"],"deny":["` + host + `"]}`,
			"denied by wildcard": `{"allow":["*"],"deny":["*"]}`,
			"not allowed":        `{"allow":["other.example"]}`,
			"empty allow":        `{}`,
			"IP literals denied": `{"allow":["*"],"allow_ip_literals":false}`,
		} {
			acctExpect(t, "PUT "+name, acctDo(t, "PUT", v3+"/rooms/"+roomID+"/state/m.room.server_acl/", c.AccessToken, content), http.StatusBadRequest, "M_BAD_JSON")
			body := `{"initial_state":[{"type":"m.room.server_acl","state_key":"","content":` + content + `}]}`
			acctExpect(t, "createRoom "+name, acctDo(t, "POST", v3+"/createRoom", c.AccessToken, body), http.StatusBadRequest, "M_BAD_JSON")
		}
		ok := `{"allow":["*"],"deny":["evil.example"]}`
		if r := acctDo(t, "PUT", v3+"/rooms/"+roomID+"/state/m.room.server_acl/", c.AccessToken, ok); r.Status != http.StatusOK {
			t.Fatalf("PUT an ACL allowing this server: %d %s", r.Status, r.Raw)
		}
	})
}
