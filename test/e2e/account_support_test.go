package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestSupportAndTURN: /.well-known/matrix/support and /voip/turnServer
// answer from the config, and 404 / {} without it.
func TestSupportAndTURN(t *testing.T) {
	plain := testserver.Start(t, testserver.Options{})
	c := plain.Register("alice", "password1")
	if r := roomsDo(t, c, "GET", "/.well-known/matrix/support", nil); r.Status != 404 || r.errcode() != "M_NOT_FOUND" {
		t.Fatalf("support without config: %d %v", r.Status, r.Body)
	}
	if r := roomsDo(t, c, "GET", "/_matrix/client/v3/voip/turnServer", nil); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("turnServer without config: %d %v", r.Status, r.Body)
	}

	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Support = config.Support{Contacts: []config.SupportContact{{Role: "m.role.admin", MatrixID: "@admin:example.org"}}, SupportPage: "https://example.org/help"}
		cfg.VoIP.TURNURIs = []string{"turn:turn.example.org:3478?transport=udp"}
		cfg.VoIP.TURNSharedSecret = "s3cret"
		cfg.VoIP.TURNUserLifetimeSeconds = 3600
	}})
	alice := inst.Register("alice", "password1")
	r := roomsDo(t, alice, "GET", "/.well-known/matrix/support", nil)
	contacts, _ := r.Body["contacts"].([]any)
	if r.Status != 200 || len(contacts) != 1 || r.Body["support_page"] != "https://example.org/help" ||
		contacts[0].(map[string]any)["matrix_id"] != "@admin:example.org" || contacts[0].(map[string]any)["role"] != "m.role.admin" {
		t.Fatalf("support: %d %v", r.Status, r.Body)
	}
	r = roomsDo(t, alice, "GET", "/_matrix/client/v3/voip/turnServer", nil)
	user, _ := r.Body["username"].(string)
	exp, name, _ := strings.Cut(user, ":")
	expiry, err := strconv.ParseInt(exp, 10, 64)
	if r.Status != 200 || err != nil || name != alice.UserID.String() || r.Body["ttl"] != float64(3600) || r.Body["password"] == "" ||
		expiry < time.Now().Add(3590*time.Second).Unix() || expiry > time.Now().Add(3610*time.Second).Unix() {
		t.Fatalf("turnServer: %d %v", r.Status, r.Body)
	}
	if uris := anyStrings(r.Body["uris"]); len(uris) != 1 || uris[0] != "turn:turn.example.org:3478?transport=udp" {
		t.Fatalf("uris: %v", r.Body["uris"])
	}
}
