package e2e

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// adminUser creates a server admin on inst and returns a logged-in client.
func adminUser(t testing.TB, inst *testserver.Instance, localpart string) *mautrix.Client {
	t.Helper()
	_, err := inst.Server.UserAPI.CreateAccount(context.Background(), localpart, "adminpass1", true)
	must(t, err)
	c := inst.Client()
	resp, err := c.Login(context.Background(), &mautrix.ReqLogin{
		Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password: "adminpass1", StoreCredentials: true,
	})
	must(t, err)
	_ = resp
	return c
}

// adminDo calls the admin API (path after /_synapse/admin) as c.
func adminDo(t testing.TB, c *mautrix.Client, method, path string, body any) roomsRaw {
	t.Helper()
	return roomsDo(t, c, method, "/_synapse/admin"+path, body)
}

// adminList reads a JSON array field of r.
func adminList(r roomsRaw, key string) []any {
	l, _ := r.Body[key].([]any)
	return l
}
