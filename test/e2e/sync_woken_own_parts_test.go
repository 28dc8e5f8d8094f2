package e2e

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// Two long-polls woken by the same message, at the same position, share
// the reads of the room's part (syncapi/sync_shared.go) and the key
// counts may be kept (keyserver/keys_counts.go), but each response keeps
// what is its user's and device's own: the sender's transaction ID, the
// unread count, the device's one-time key count. After bob claims one of
// alice's keys, the next pair of woken responses shows alice's new count
// and bob's unchanged one.
func TestWokenSyncsKeepOwnParts(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		ad, bd := newKeysDevice(t, alice), newKeysDevice(t, bob)
		keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": ad.deviceKeys(t), "one_time_keys": ad.otks(t, "a", 3, false)})
		keysDo(t, bob, "POST", "/keys/upload", map[string]any{"device_keys": bd.deviceKeys(t), "one_time_keys": bd.otks(t, "b", 5, false)})
		// Without presence: the other's coming online would wake a poll.
		filter := `{"presence":{"not_types":["*"]}}`
		since := map[*mautrix.Client]string{alice: syncOnce(t, alice, "", 0, filter).NextBatch, bob: syncOnce(t, bob, "", 0, filter).NextBatch}

		// wake parks both long-polls, has sender send body with txn, and
		// returns both responses.
		wake := func(sender *mautrix.Client, txn, body string) map[*mautrix.Client]acctResp {
			t.Helper()
			parked := parkedLongPolls(t)
			type result struct {
				c   *mautrix.Client
				r   acctResp
				err error
			}
			done := make(chan result, 2)
			for _, c := range []*mautrix.Client{alice, bob} {
				go func() {
					r, err := acctTry("GET", keysURL(c, "/sync?timeout=30000&filter="+url.QueryEscape(filter)+"&since="+since[c]), c.AccessToken, nil)
					done <- result{c, r, err}
				}()
			}
			testutil.Eventually(t, 10*time.Second, "both long-polls to park", func() bool { return parkedLongPolls(t) == parked+2 })
			r := keysDo(t, sender, "PUT", fmt.Sprintf("/rooms/%s/send/m.room.message/%s", room, txn), map[string]any{"msgtype": "m.text", "body": body})
			if r.Status != 200 {
				t.Fatalf("send: %s", r.Raw)
			}
			out := map[*mautrix.Client]acctResp{}
			for range 2 {
				res := <-done
				if res.err != nil || res.r.Status != 200 {
					t.Fatalf("long-poll: %v %s", res.err, res.r.Raw)
				}
				out[res.c] = res.r
				since[res.c], _ = res.r.Body["next_batch"].(string)
			}
			return out
		}
		check := func(step string, resps map[*mautrix.Client]acctResp, sender *mautrix.Client, txn, body string, unread, otk map[*mautrix.Client]int) {
			t.Helper()
			for _, c := range []*mautrix.Client{alice, bob} {
				r := resps[c]
				jr := roomSection(r.Body, room)
				evs, _ := jr["timeline"].(map[string]any)["events"].([]any)
				if len(evs) != 1 {
					t.Fatalf("%s: %s's timeline has %d events: %s", step, c.UserID, len(evs), r.Raw)
				}
				ev := evs[0].(map[string]any)
				if ev["content"].(map[string]any)["body"] != body {
					t.Fatalf("%s: %s got %v", step, c.UserID, ev["content"])
				}
				gotTxn, _ := ev["unsigned"].(map[string]any)["transaction_id"].(string)
				if wantTxn := map[bool]string{true: txn}[c == sender]; gotTxn != wantTxn {
					t.Fatalf("%s: %s's event has transaction_id %q, want %q", step, c.UserID, gotTxn, wantTxn)
				}
				n, _ := jr["unread_notifications"].(map[string]any)["notification_count"].(float64)
				if int(n) != unread[c] {
					t.Fatalf("%s: %s's notification_count %v, want %d", step, c.UserID, n, unread[c])
				}
				counts, _ := r.Body["device_one_time_keys_count"].(map[string]any)
				if n, _ := counts["signed_curve25519"].(float64); int(n) != otk[c] {
					t.Fatalf("%s: %s's one-time key count %v, want %d", step, c.UserID, n, otk[c])
				}
			}
		}
		check("first", wake(alice, "t1", "one"), alice, "t1", "one",
			map[*mautrix.Client]int{alice: 0, bob: 1}, map[*mautrix.Client]int{alice: 3, bob: 5})
		claim := keysDo(t, bob, "POST", "/keys/claim", map[string]any{"one_time_keys": map[string]any{alice.UserID.String(): map[string]string{alice.DeviceID.String(): "signed_curve25519"}}})
		if claim.Status != 200 {
			t.Fatalf("claim: %s", claim.Raw)
		}
		// Neither has read anything: each has the other's message unread.
		check("after the claim", wake(bob, "t2", "two"), bob, "t2", "two",
			map[*mautrix.Client]int{alice: 1, bob: 1}, map[*mautrix.Client]int{alice: 2, bob: 5})
	})
}

// roomSection is a /sync response body's joined section of room.
func roomSection(body map[string]any, room id.RoomID) map[string]any {
	rooms, _ := body["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	jr, _ := join[room.String()].(map[string]any)
	return jr
}
