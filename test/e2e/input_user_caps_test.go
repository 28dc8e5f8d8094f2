package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestInputDeleteAnotherUsersDevice404: deleting a device the user does
// not have (another user's) is 404 M_NOT_FOUND, and that device stays.
func TestInputDeleteAnotherUsersDevice404(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		v3 := inst.URL + "/_matrix/client/v3"
		body := map[string]any{"auth": acctPasswordAuth(string(alice.UserID), "password123", "")}
		acctExpect(t, "delete bob's device", acctDo(t, "DELETE", v3+"/devices/"+bob.DeviceID.String(), alice.AccessToken, body), http.StatusNotFound, "M_NOT_FOUND")
		acctExpect(t, "delete a device nobody has", acctDo(t, "DELETE", v3+"/devices/NOSUCHDEV", alice.AccessToken, `{}`), http.StatusNotFound, "M_NOT_FOUND")
		if _, err := bob.Whoami(t.Context()); err != nil {
			t.Fatalf("bob's device was touched: %v", err)
		}
	})
}

// TestInputLongPollsCappedPerUser: one user cannot hold more than the cap
// of waiting /sync requests; the one over it gets 429 at once.
func TestInputLongPollsCappedPerUser(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	c := inst.Register("poller", "password123")
	since := syncOnce(t, c, "", 0, "").NextBatch
	url := inst.URL + "/_matrix/client/v3/sync?timeout=60000&since=" + since
	const polls = 100 // the server's cap (syncapi maxLongPollsPerUser)
	errs := make(chan error, polls)
	for range polls {
		go func() {
			for { // a test poll below may hold a slot for a moment
				r, err := acctTry("GET", url, c.AccessToken, nil)
				if err != nil || r.Status != http.StatusTooManyRequests {
					errs <- err
					return
				}
			}
		}()
	}
	// Once the 100 are waiting, a further poll is refused.
	testutil.Eventually(t, 60*time.Second, "a poll over the cap refused", func() bool {
		r, err := acctTry("GET", inst.URL+"/_matrix/client/v3/sync?timeout=1&since="+since, c.AccessToken, nil)
		return err == nil && r.Status == http.StatusTooManyRequests && r.errcode() == "M_LIMIT_EXCEEDED"
	})
	// A message wakes them all; each answers 200.
	room := syncRoom(t, c)
	syncSend(t, c, room, "wake")
	for range polls {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
