package syncapi

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestUnreadFollowsOwnReceipts: /sync keeps a user's receipts between
// counts while the receipt stream stands still, so a receipt of the
// user's own (public or private) that moves nothing else must still
// lower the count in the next incremental /sync.
func TestUnreadFollowsOwnReceipts(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob := "@alice:test", "@bob:test"
			r := newTestRoom(t, "!unread:test")
			r.create(s, alice)
			r.join(s, bob)
			var msgs []string
			for _, body := range []string{"one", "two", "three"} {
				msgs = append(msgs, r.say(s, alice, body))
			}
			receipt := func(user, rtype, eventID string) {
				t.Helper()
				if res := s.setReceipt(ctx, user, r.id, rtype, eventID, ""); res.Code != 200 {
					t.Fatalf("receipt %s %s: %d %v", user, rtype, res.Code, res.JSON)
				}
			}
			receipt(alice, "m.read", msgs[2]) // the receipt stream is not at its start
			var since *types.StreamToken
			unread := func(stage string, want int) {
				t.Helper()
				resp := testSync(t, s, bob, since, nil)
				cur := s.notif.Current()
				since = &cur
				jr := resp.Rooms.Join[r.id]
				if jr == nil {
					t.Fatalf("%s: room missing from bob's /sync", stage)
				}
				if got := jr.UnreadNotifications.Notification; got != want {
					t.Fatalf("%s: bob's unread %d, want %d", stage, got, want)
				}
			}
			unread("initial", 3)
			msgs = append(msgs, r.say(s, alice, "four"))
			unread("after a message", 4)
			receipt(bob, "m.read.private", msgs[1])
			unread("after a private receipt", 2)
			receipt(bob, "m.read", msgs[3])
			unread("after a receipt on the last", 0)
			msgs = append(msgs, r.say(s, alice, "five"))
			unread("after one more message", 1)
		})
	}
}
