package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/pushrules"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// syncPushRules is the m.push_rules content of a sync's global account
// data (nil when absent).
func syncPushRules(r *mautrix.RespSync) map[string]any {
	for _, ev := range r.AccountData.Events {
		if ev.Type.Type == "m.push_rules" {
			return ev.Content.Raw
		}
	}
	return nil
}

// ruleIDs lists the rule IDs of one kind of global push rules.
func ruleIDs(content map[string]any, kind string) []string {
	global, _ := content["global"].(map[string]any)
	rules, _ := global[kind].([]any)
	var ids []string
	for _, r := range rules {
		if m, ok := r.(map[string]any); ok {
			id, _ := m["rule_id"].(string)
			ids = append(ids, id)
		}
	}
	return ids
}

// An initial /sync carries the push rules, the defaults for a user who
// never changed them; a change comes down the next incremental sync
// with the defaults still there.
func TestSyncPushRules(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	first := syncOnce(t, alice, "", 0, "")
	rules := syncPushRules(first)
	if rules == nil || !slices.Contains(ruleIDs(rules, "override"), ".m.rule.master") || !slices.Contains(ruleIDs(rules, "underride"), ".m.rule.message") {
		t.Fatalf("initial sync push rules: %v", rules)
	}
	// Filtered out when the filter says so.
	if r := syncPushRules(syncOnce(t, alice, "", 0, `{"account_data":{"not_types":["m.push_rules"]}}`)); r != nil {
		t.Fatalf("push rules despite the filter: %v", r)
	}
	if err := alice.PutPushRule(syncCtx, "global", "sender", alice.UserID.String(), &mautrix.ReqPutPushRule{
		Actions: []pushrules.PushActionType{pushrules.ActionDontNotify}}); err != nil {
		t.Fatal(err)
	}
	syncUntil(t, alice, first.NextBatch, 10*time.Second, func(r *mautrix.RespSync) bool {
		c := syncPushRules(r)
		return c != nil && slices.Contains(ruleIDs(c, "sender"), alice.UserID.String()) && slices.Contains(ruleIDs(c, "override"), ".m.rule.master")
	})
	if c := syncPushRules(syncOnce(t, alice, "", 0, "")); !slices.Contains(ruleIDs(c, "sender"), alice.UserID.String()) {
		t.Fatalf("initial sync after a change: %v", c)
	}
}

// hasPushRule: does GET /pushrules list a rule of kind with id?
func hasPushRule(t *testing.T, c *mautrix.Client, kind, ruleID string) bool {
	t.Helper()
	r := roomsDo(t, c, "GET", "/_matrix/client/v3/pushrules/", nil)
	if r.Status != 200 {
		t.Fatalf("GET /pushrules: %d %v", r.Status, r.Body)
	}
	return slices.Contains(ruleIDs(r.Body, kind), ruleID)
}

// A room upgrade carries each local user's push rules for the old room
// over to the new one as they join it: the upgrading user at once, a
// member following the tombstone when they join; a rule of override kind
// whose room_id condition names the old room is copied with the new ID.
func TestPushRulesRoomUpgrade(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	created, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomVersion: "10"})
	if err != nil {
		t.Fatal(err)
	}
	old := created.RoomID
	if _, err := bob.JoinRoomByID(syncCtx, old); err != nil {
		t.Fatal(err)
	}
	mute := &mautrix.ReqPutPushRule{Actions: []pushrules.PushActionType{pushrules.ActionDontNotify}}
	for _, c := range []*mautrix.Client{alice, bob} {
		if err := c.PutPushRule(syncCtx, "global", "room", string(old), mute); err != nil {
			t.Fatal(err)
		}
	}
	r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/pushrules/global/override/quiet-"+string(old), map[string]any{
		"actions":    []string{"dont_notify"},
		"conditions": []map[string]string{{"kind": "event_match", "key": "room_id", "pattern": string(old)}},
	})
	if r.Status != 200 {
		t.Fatalf("PUT override rule: %d %v", r.Status, r.Body)
	}
	r = roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+string(old)+"/upgrade", map[string]string{"new_version": "11"})
	if r.Status != 200 {
		t.Fatalf("upgrade: %d %v", r.Status, r.Body)
	}
	newRoom, _ := r.Body["replacement_room"].(string)
	testutil.Eventually(t, 10*time.Second, "alice's rules copied to the new room", func() bool {
		return hasPushRule(t, alice, "room", newRoom) && hasPushRule(t, alice, "override", "quiet-"+newRoom)
	})
	if hasPushRule(t, bob, "room", newRoom) {
		t.Fatal("bob's rule copied before he joined the new room")
	}
	if _, err := bob.JoinRoomByID(syncCtx, id.RoomID(newRoom)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "bob's rule copied to the new room", func() bool {
		return hasPushRule(t, bob, "room", newRoom)
	})
	if !hasPushRule(t, bob, "room", string(old)) || !hasPushRule(t, alice, "override", "quiet-"+string(old)) {
		t.Fatal("old room's rules gone after the copy")
	}
	rule := roomsDo(t, alice, "GET", "/_matrix/client/v3/pushrules/global/override/quiet-"+newRoom, nil)
	conds, _ := rule.Body["conditions"].([]any)
	if len(conds) != 1 || conds[0].(map[string]any)["pattern"] != newRoom {
		t.Fatalf("copied override rule: %d %v", rule.Status, rule.Body)
	}
}
