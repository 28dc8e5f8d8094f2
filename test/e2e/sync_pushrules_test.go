package e2e

import (
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/pushrules"

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
