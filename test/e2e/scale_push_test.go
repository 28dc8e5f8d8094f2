package e2e

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestPushReplicas runs two syncapi processes (each with its pushserver;
// docs/scaling.md) beside a core on PostgreSQL and an external NATS, with
// a real local push gateway. Alice's pusher is set through the replica
// that does not deliver (the change reaches the deliverer over NATS).
// Bob writes to her while the deliverer dies, its lease frozen as after
// a crash: the survivor takes delivery over and the gateway gets every
// message's notification exactly once (the dying process's notify in
// flight finishes and is stored before it stops).
func TestPushReplicas(t *testing.T) {
	gw := newPushGateway(t)
	wc := startWriterCluster(t, writerClusterOpts{
		name: "pushrep", component: "syncapi", clientListener: true,
		core:      []string{"clientapi", "userapi", "roomserver", "keyserver"},
		configure: allowLoopbackGateways,
		held:      func(i *testserver.Instance) bool { return i.Server.Push.Writer() },
		leases:    func(i *testserver.Instance) *lease.Manager { return i.Server.Push.Leases() },
	})
	alice := wc.core.Register("alice", "password123")
	bob := wc.core.Register("bob", "password123")
	room := syncRoom(t, alice, bob) // two members: one-to-one, every message notifies
	at := func(inst *testserver.Instance) *mautrix.Client {
		c, err := mautrix.NewClient("http://"+inst.Cfg.Listeners.Client.Address, alice.UserID, alice.AccessToken)
		must(t, err)
		c.DeviceID = alice.DeviceID
		return c
	}
	other := at(wc.replicas[1-wc.writer()])
	if r := pushSet(t, other, gw, "phone", nil, nil); r.Status != 200 {
		t.Fatalf("set pusher at the non-delivering replica: %d %v", r.Status, r.Body)
	}
	if keys := pushKeys(t, at(wc.replicas[wc.writer()])); len(keys) != 1 || keys[0] != "phone" {
		t.Fatalf("pushers listed at the delivering replica: %v", keys)
	}

	var sent []id.EventID
	send := func(n int) {
		for i := 0; i < n; i++ {
			sent = append(sent, syncSend(t, bob, room, fmt.Sprintf("push-%d", len(sent))))
		}
	}
	all := func() bool {
		for _, ev := range sent {
			if len(gw.find("phone", forEvent(string(ev)))) == 0 {
				return false
			}
		}
		return true
	}
	send(5)
	testutil.Eventually(t, pushWithin, "the first notifications", all)

	survivor, killed := wc.killWriter()
	send(10)
	wc.awaitTakeover(survivor, killed)
	send(5)
	testutil.Eventually(t, 2*pushWithin, "every notification after the handover", all)
	for _, ev := range sent {
		if n := len(gw.find("phone", forEvent(string(ev)))); n != 1 {
			t.Errorf("event %s notified %d times", ev, n)
		}
	}
}
