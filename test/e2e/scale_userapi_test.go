package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestUserapiTwoProcesses runs the userapi as two processes (RPC shared
// by queue group) beside a core, on PostgreSQL and an external NATS.
// Requests resolve alice's token at both (each caches it); after she
// logs out through one, no request with the token passes at either (the
// invalidation reaches the other's cache). Account data set through them
// reaches /sync.
func TestUserapiTwoProcesses(t *testing.T) {
	mk := scaleConfigs(t, "ua", nil)
	coreCfg, users := mk("", "clientapi", "roomserver", "syncapi", "keyserver"), []*config.Config{mk("", "userapi"), mk("", "userapi")}
	oneServer(t, coreCfg, false, users...)
	for _, c := range users {
		testserver.StartWithConfig(t, c)
	}
	core := testserver.StartWithConfig(t, coreCfg)

	alice := core.Register("alice", "password123")
	other := core.Client()
	_, err := other.Login(asCtx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, StoreCredentials: true})
	must(t, err)
	// Enough requests that both processes resolve (and cache) the token.
	for i := 0; i < 20; i++ {
		_, err := other.Whoami(asCtx)
		must(t, err)
	}
	_, err = other.Logout(asCtx)
	must(t, err)
	for i := 0; i < 20; i++ {
		if _, err := other.Whoami(asCtx); err == nil {
			t.Fatalf("request %d with the logged-out token passed", i)
		}
	}

	// Account data through either process reaches /sync once.
	for i := 0; i < 4; i++ {
		must(t, alice.SetAccountData(asCtx, fmt.Sprintf("org.example.n%d", i), map[string]any{"i": i}))
	}
	seen := map[string]int{}
	since := ""
	testutil.Eventually(t, 20*time.Second, "alice's account data in /sync", func() bool {
		resp, err := alice.SyncRequest(asCtx, 0, since, "", false, "")
		must(t, err)
		since = resp.NextBatch
		for _, ev := range resp.AccountData.Events {
			if strings.HasPrefix(ev.Type.Type, "org.example.") {
				seen[ev.Type.Type]++
			}
		}
		return len(seen) >= 4
	})
	for typ, n := range seen {
		if n != 1 {
			t.Errorf("%s arrived %d times", typ, n)
		}
	}
}
