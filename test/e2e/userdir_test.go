package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestUserDirectory: a user finds who shares a room with them and the
// members of public rooms, not a private stranger; entries follow display
// name changes and leaves; search_all_users finds every local user.
func TestUserDirectory(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		dave := inst.Register("dave", "password1")
		inst.Register("eve", "password1") // in no room at all
		shared := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "private_chat"})
		if _, err := alice.InviteUser(syncCtx, shared, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.JoinRoomByID(syncCtx, shared); err != nil {
			t.Fatal(err)
		}
		syncRoom(t, carol)                                                   // public room alice is not in
		roomsCreate(t, dave, &mautrix.ReqCreateRoom{Preset: "private_chat"}) // dave is a private stranger

		if got := dirSearch(t, alice, "bob", 10); !slices.Equal(got, []string{bob.UserID.String()}) {
			t.Fatalf("sharing a room: %v", got)
		}
		if got := dirSearch(t, alice, "CAR", 10); !slices.Equal(got, []string{carol.UserID.String()}) {
			t.Fatalf("public room member: %v", got)
		}
		if got := dirSearch(t, alice, "dave", 10); len(got) != 0 {
			t.Fatalf("found a private stranger: %v", got)
		}
		if got := dirSearch(t, alice, "eve", 10); len(got) != 0 {
			t.Fatalf("found a user in no room without search_all_users: %v", got)
		}
		// A display name change is found by any word of the new name.
		if err := bob.SetDisplayName(syncCtx, "Robert Builder"); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 20*time.Second, "new display name in the directory", func() bool {
			return slices.Equal(dirSearch(t, alice, "build", 10), []string{bob.UserID.String()})
		})
		// limited: more matches than asked for.
		r := roomsDo(t, alice, "POST", "/_matrix/client/v3/user_directory/search", map[string]any{"search_term": "@", "limit": 1})
		if res, _ := r.Body["results"].([]any); len(res) != 1 || r.Body["limited"] != true {
			t.Fatalf("limited: %v", r.Body)
		}
		// After bob leaves the only shared (private) room, alice cannot find him.
		if _, err := bob.LeaveRoom(syncCtx, shared); err != nil {
			t.Fatal(err)
		}
		if got := dirSearch(t, alice, "bob", 10); len(got) != 0 {
			t.Fatalf("found bob after he left: %v", got)
		}
		if r := roomsDo(t, alice, "POST", "/_matrix/client/v3/user_directory/search", map[string]any{"limit": 3}); r.Status != 400 || r.errcode() != "M_MISSING_PARAM" {
			t.Fatalf("no search_term: %d %v", r.Status, r.Body)
		}
	})
}

func TestUserDirectorySearchAllUsers(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.UserDirectory.SearchAllUsers = true }})
	alice := inst.Register("alice", "password1")
	eve := inst.Register("eve", "password1")
	if err := eve.SetDisplayName(syncCtx, "Evelyn Quiet"); err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{"eve", "quiet"} {
		if got := dirSearch(t, alice, term, 10); !slices.Equal(got, []string{eve.UserID.String()}) {
			t.Fatalf("search_all_users %q: %v", term, got)
		}
	}
}

// dirSearch returns the user IDs a user directory search finds.
func dirSearch(t testing.TB, c *mautrix.Client, term string, limit int) []string {
	t.Helper()
	r := roomsDo(t, c, "POST", "/_matrix/client/v3/user_directory/search", map[string]any{"search_term": term, "limit": limit})
	if r.Status != 200 {
		t.Fatalf("user directory search: %d %v", r.Status, r.Body)
	}
	var out []string
	res, _ := r.Body["results"].([]any)
	for _, x := range res {
		m, _ := x.(map[string]any)
		id, _ := m["user_id"].(string)
		out = append(out, id)
	}
	return out
}
