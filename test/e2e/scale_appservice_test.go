package e2e

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAppserviceReplicas runs the appservice component as two processes
// (as-1, as-2; docs/scaling.md) beside a core on PostgreSQL and an
// external NATS, pushing to a real mautrix bridge. Alice writes into a
// room with one of the bridge's ghosts while the writer (filling and
// delivering the queue) dies, its lease frozen as after a crash: the
// survivor takes over and the bridge gets every message exactly once and
// in order, and no transaction ID is reused for other events. Both
// processes answer the bridge's pings.
func TestAppserviceReplicas(t *testing.T) {
	br := newTestBridge(t, "bridge", nil)
	regFile := br.file("")
	wc := startWriterCluster(t, writerClusterOpts{
		name: "asrep", component: "appservice",
		core:      []string{"clientapi", "userapi", "roomserver", "keyserver", "syncapi"},
		configure: func(c *config.Config) { c.AppServicePaths = []string{regFile} },
		held:      func(i *testserver.Instance) bool { return i.Server.AS.Writer() },
		leases:    func(i *testserver.Instance) *lease.Manager { return i.Server.AS.Leases() },
	})
	br.attach(wc.core)
	wc.writer()
	// Pings reach either process over RPC.
	for i := 0; i < 4; i++ {
		if _, err := br.AS.BotClient().AppservicePing(asCtx, "bridge", fmt.Sprintf("p%d", i)); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}

	ghostID := id.NewUserID("_bridge_rep", wc.core.Cfg.ServerName)
	ghost := br.AS.Intent(ghostID)
	must(t, ghost.EnsureRegistered(asCtx))
	alice := wc.core.Register("alice", "password123")
	room, err := alice.CreateRoom(asCtx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{ghostID}})
	must(t, err)
	_, err = ghost.JoinRoomByID(asCtx, room.RoomID)
	must(t, err)

	var sent []string
	send := func(n int) {
		for i := 0; i < n; i++ {
			body := fmt.Sprintf("rep-%d", len(sent))
			syncSend(t, alice, room.RoomID, body)
			sent = append(sent, body)
		}
	}
	all := func() bool { return len(br.bodies("rep-")) >= len(sent) }
	send(10)
	br.waitFor("the first messages at the bridge", all)

	// The writer dies while alice keeps sending.
	survivor, killed := wc.killWriter()
	send(10)
	wc.awaitTakeover(survivor, killed)
	send(5)
	br.waitFor("every message at the bridge after the handover", all)

	if got := br.bodies("rep-"); !reflect.DeepEqual(got, sent) {
		t.Fatalf("bridge got %v, alice sent %v", got, sent)
	}
	// mautrix hands a transaction's events on after the push is
	// recorded: wait for it to have handed each one on.
	br.waitFor("mautrix handed the bridge every message", func() bool {
		for _, body := range sent {
			if br.handledCount(body) == 0 {
				return false
			}
		}
		return true
	})
	for _, body := range sent {
		if n := br.handledCount(body); n != 1 {
			t.Errorf("%s handed to the bridge %d times", body, n)
		}
	}
	// A retried transaction carries what it carried the first time.
	eventIDs := func(txn asTxn) []string {
		var ids []string
		for _, raw := range txn.Events {
			ids = append(ids, gjson.GetBytes(raw, "event_id").Str)
		}
		return ids
	}
	byID := map[string][]string{}
	for _, txn := range br.txnsCopy() {
		ids := eventIDs(txn)
		if first, ok := byID[txn.ID]; ok && !reflect.DeepEqual(first, ids) {
			t.Errorf("transaction %s sent again with other events: %v then %v", txn.ID, first, ids)
		}
		byID[txn.ID] = ids
	}
}
