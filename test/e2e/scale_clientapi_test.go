package e2e

import (
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/server/testserver"
)

// TestUIAAcrossClientAPIs runs two clientapi processes side by side (as
// behind a load balancer without sticky sessions) beside a core, on an
// external NATS: a UIA flow started at one (the 401 challenge of a device
// deletion) is completed at the other (with sessions in process memory
// the second answers M_UNKNOWN). Rate-limit buckets stay per process.
func TestUIAAcrossClientAPIs(t *testing.T) {
	if os.Getenv("AXON_SKIP_NATS") == "1" || os.Getenv("AXON_SKIP_POSTGRES") == "1" {
		t.Skip("needs the external NATS server and PostgreSQL")
	}
	prefix := fmt.Sprintf("axonuia%d", time.Now().UnixNano())
	dsn := storagetest.PostgresDSN(t)
	mk := func(components ...string) *config.Config {
		return testserver.NewConfig(t, testserver.Options{ExternalNATS: true, Configure: func(c *config.Config) {
			c.NATS.Prefix = prefix
			c.Components = components
			c.Database.Default = dsn
		}})
	}
	edge1 := mk("clientapi")
	addr := testserver.FreeLoopbackAddr(t)
	edge1.ServerName, edge1.Listeners.Client.Address = addr, addr
	must(t, edge1.LoadSigningKey())
	others := []*config.Config{mk("userapi", "roomserver", "syncapi", "keyserver"), mk("clientapi")}
	for _, c := range others {
		c.ServerName = addr
		c.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
		c.SigningKeyPath = edge1.ResolvePath("signing.key")
	}
	testserver.StartWithConfig(t, others[0])
	at1 := testserver.StartWithConfig(t, edge1)
	at2 := testserver.StartWithConfig(t, others[1])

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
