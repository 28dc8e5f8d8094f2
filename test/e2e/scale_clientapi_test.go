package e2e

import (
	"net/url"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestUIAAcrossClientAPIs runs two clientapi processes side by side (as
// behind a load balancer without sticky sessions) beside a core, on an
// external NATS: a UIA flow started at one (the 401 challenge of a device
// deletion) is completed at the other (with sessions in process memory
// the second answers M_UNKNOWN). Rate-limit buckets stay per process.
func TestUIAAcrossClientAPIs(t *testing.T) {
	mk := scaleConfigs(t, "uia", nil)
	edge1, core, edge2 := mk("", "clientapi"), mk("", "userapi", "roomserver", "syncapi", "keyserver"), mk("", "clientapi")
	oneServer(t, edge1, true, core, edge2)
	testserver.StartWithConfig(t, core)
	at1 := testserver.StartWithConfig(t, edge1)
	at2 := testserver.StartWithConfig(t, edge2)

	alice := at1.Register("alice", "password123")
	user := alice.UserID.String()
	second := at2.Client()
	_, err := second.Login(asCtx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, StoreCredentials: true})
	must(t, err)
	aliceAt2, err := mautrix.NewClient(at2.URL, alice.UserID, alice.AccessToken)
	must(t, err)

	path := "/devices/" + url.PathEscape(second.DeviceID.String())
	ch := keysDo(t, alice, "DELETE", path, map[string]any{})
	if ch.Status != 401 || ch.str("session") == "" {
		t.Fatalf("want a UIA challenge from the first clientapi: %d %s", ch.Status, ch.Raw)
	}
	auth := map[string]any{"auth": acctPasswordAuth(user, "password123", ch.str("session"))}
	if r := keysDo(t, aliceAt2, "DELETE", path, auth); r.Status != 200 {
		t.Fatalf("the flow completed at the second clientapi: %d %s", r.Status, r.Raw)
	}
}
