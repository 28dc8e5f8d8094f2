package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	fedstorage "github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestFederationSenderPartitions runs the federationapi as several
// processes sharing the destinations by partition (docs/scaling.md), on
// PostgreSQL and an external NATS: a core (clientapi, syncapi, userapi,
// roomserver, keyserver), federationapi fs-1 in this process (serving
// inbound federation on the server name) and fs-3 as a real child
// process, holding partition 0 (so running the stream consumers). Two
// other Axon servers, one in a partition of each sender, join three
// rooms; a local user writes into them continuously while fs-3 is killed
// (SIGKILL). Until then each remote server hears only from its
// partition's holder; then fs-3's partitions (and the consumers) move to
// fs-1, and each remote server receives every acknowledged event exactly
// once (in one transaction, as its own record of answered transactions
// shows) and, room by room, in order. Then fs-2 joins and fs-1 stalls
// (its leases frozen past expiry, still believing it holds its
// partitions, partition 0 among them): what is written afterwards
// reaches the remote servers only in fs-2's transactions.
func TestFederationSenderPartitions(t *testing.T) {
	mk := scaleConfigs(t, "fedsend", testserver.Federated(t))
	bin := buildAxon(t)
	fs1Cfg := mk("fs-1", "federationapi")
	must(t, fs1Cfg.LoadSigningKey())
	name := fs1Cfg.ServerName // fs-1's federation listener
	// The other processes share the name and key; only fs-1 listens for
	// federation on its own port.
	beside := func(c *config.Config) *config.Config {
		c.ServerName, c.SigningKeyPath = name, fs1Cfg.ResolvePath("signing.key")
		c.Listeners.Federation = config.Listener{}
		return c
	}
	core := testserver.StartWithConfig(t, beside(mk("", "clientapi", "syncapi", "userapi", "roomserver", "keyserver")))
	fs1 := testserver.StartWithConfig(t, fs1Cfg)
	leases1 := fs1.Server.Fed.Leases()
	if len(leases1.Owned()) != scalePartitions {
		t.Fatalf("a lone federation sender holds %v", leases1.Owned())
	}
	// Partition 0 goes to fs-3 beside fs-1 (rendezvous hashing of the
	// names), and to fs-1 beside fs-2.
	fs3 := startComponentProcess(t, bin, beside(mk("fs-3", "federationapi")), "federationapi")
	testutil.Eventually(t, 30*time.Second, "fs-3 taking its share of the partitions, partition 0 among them", func() bool {
		n := len(leases1.Owned())
		_, held0 := leases1.Owner(0)
		return n > 0 && n < scalePartitions && !held0 && fs3.ownedMetric(t) == scalePartitions-n
	})

	// One remote server in a partition of each sender.
	remoteWhere := func(want bool) *testserver.Instance {
		for i := 0; i < 500; i++ {
			cfg := testserver.NewConfig(t, testserver.Options{Configure: testserver.Federated(t)})
			if _, at1 := leases1.Owner(lease.Partition(cfg.ServerName, scalePartitions)); at1 == want {
				return testserver.StartWithConfig(t, cfg)
			}
		}
		t.Fatal("no server name found in the wanted partitions")
		return nil
	}
	remotes := []*testserver.Instance{remoteWhere(true), remoteWhere(false)}
	t.Logf("remote %s is sent to by fs-1, %s by fs-3", remotes[0].Cfg.ServerName, remotes[1].Cfg.ServerName)

	ctx := context.Background()
	alice := core.Register("alice", "password123")
	rooms := make([]id.RoomID, 3)
	for i := range rooms {
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		must(t, err)
		rooms[i] = resp.RoomID
	}
	for i, r := range remotes {
		u := r.Register(fmt.Sprintf("remote%d", i), "password123")
		for _, room := range rooms {
			_, err := u.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{name}})
			must(t, err)
		}
	}
	received := make([]*fedstorage.DB, len(remotes))
	for i, r := range remotes {
		received[i] = fedstorage.New(openComponentDB(t, r, "federationapi"))
	}

	load := newScaleLoad(alice, rooms)
	load.start(t)
	testutil.Eventually(t, 60*time.Second, "5 messages acknowledged in every room", func() bool { return load.minAcked() >= 5 })
	testutil.Eventually(t, 60*time.Second, "both senders delivering", func() bool {
		for _, db := range received {
			txns, err := db.InboundTxns(ctx, name)
			must(t, err)
			if len(txns) == 0 {
				return false
			}
		}
		return true
	})
	killed := time.Now()
	fs3.kill(t)
	testutil.Eventually(t, 30*time.Second, "fs-1 holding every partition after fs-3 was killed", func() bool {
		return len(leases1.Owned()) == scalePartitions
	})
	t.Logf("handover after SIGKILL: fs-1 held all %d partitions %s after the kill (lease TTL %s)",
		scalePartitions, time.Since(killed).Round(10*time.Millisecond), scaleLeaseTTL)
	before := load.minAcked()
	testutil.Eventually(t, 90*time.Second, "5 more messages acknowledged in every room after the handover", func() bool {
		return load.minAcked() >= before+5
	})
	load.stop(t)
	acked := make([][]string, len(rooms))
	for i := range rooms {
		acked[i] = load.ackedIn(i)
	}
	for i, db := range received {
		checkReceivedOnce(t, db, name, remotes[i].Cfg.ServerName, acked, nil)
	}
	// Until the kill each remote was sent to by its partition's holder only.
	for i, holder := range []string{"fs-1-", "fs-3-"} {
		txns, err := received[i].InboundTxns(ctx, name)
		must(t, err)
		n := 0
		for _, txn := range txns {
			if txn.ReceivedTS >= killed.UnixMilli() {
				break
			}
			n++
			if !strings.HasPrefix(txn.TxnID, holder) {
				t.Errorf("%s, in a partition of %s, received transaction %s before the kill", remotes[i].Cfg.ServerName, holder, txn.TxnID)
			}
		}
		if n == 0 {
			t.Errorf("%s received nothing before the kill", remotes[i].Cfg.ServerName)
		}
	}
	gap := firstTxnAfter(t, received[1], name, killed)
	t.Logf("destination of fs-3 (%s): first transaction after the kill received %s after it", remotes[1].Cfg.ServerName, gap)

	// fs-2 joins; then fs-1 stalls past its leases.
	fs2 := testserver.StartWithConfig(t, beside(mk("fs-2", "federationapi")))
	leases2 := fs2.Server.Fed.Leases()
	testutil.Eventually(t, 30*time.Second, "fs-2 taking its share", func() bool {
		n := len(leases2.Owned())
		return n > 0 && n+len(leases1.Owned()) == scalePartitions
	})
	stale := leases1.Owned()
	if !slices.Contains(stale, 0) {
		t.Fatal("fs-1 does not hold partition 0 beside fs-2: its stalled consumers would not be tested")
	}
	leases1.Freeze()
	testutil.Eventually(t, 30*time.Second, "fs-2 holding every partition once fs-1's leases expired", func() bool {
		return len(leases2.Owned()) == scalePartitions
	})
	after := make([][]string, len(rooms))
	for i, r := range rooms {
		for j := 0; j < 3; j++ {
			resp, err := alice.SendText(ctx, r, fmt.Sprintf("after the stall %d", j))
			must(t, err)
			after[i] = append(after[i], string(resp.EventID))
			acked[i] = append(acked[i], string(resp.EventID))
		}
	}
	for i, db := range received {
		checkReceivedOnce(t, db, name, remotes[i].Cfg.ServerName, acked, after)
	}
	for _, r := range remotes {
		p := lease.Partition(r.Cfg.ServerName, scalePartitions)
		_, still := leases1.Owner(p)
		t.Logf("stalled fs-1 held %s's partition %d: %t; still believes it holds it: %t", r.Cfg.ServerName, p, slices.Contains(stale, p), still)
	}
}

// checkReceivedOnce waits until the remote server (its federationapi
// tables in db) has received every event of acked in transactions from
// origin, then checks each was in exactly one transaction, accepted, in
// order room by room (a transaction received earlier holds earlier
// events), and that the events of late came in fs-2's transactions.
func checkReceivedOnce(t *testing.T, db *fedstorage.DB, origin, remote string, acked, late [][]string) {
	t.Helper()
	type seen struct {
		txn   int
		id    string
		count int
	}
	var where map[string]*seen
	var txns []fedstorage.InboundTxn
	testutil.Eventually(t, 90*time.Second, remote+" receiving every acknowledged event", func() bool {
		var err error
		txns, err = db.InboundTxns(context.Background(), origin)
		must(t, err)
		where = map[string]*seen{}
		for i, txn := range txns {
			var pdus map[string]struct {
				Error string `json:"error"`
			}
			if txn.Response == nil || json.Unmarshal(txn.Response, &pdus) != nil {
				continue
			}
			for ev, res := range pdus {
				if res.Error != "" {
					t.Errorf("%s refused %s: %s", remote, ev, res.Error)
				}
				if s := where[ev]; s != nil {
					s.count++
					continue
				}
				where[ev] = &seen{txn: i, id: txn.TxnID, count: 1}
			}
		}
		for _, room := range acked {
			for _, ev := range room {
				if where[ev] == nil {
					return false
				}
			}
		}
		return true
	})
	for r, room := range acked {
		for i, ev := range room {
			s := where[ev]
			if s.count != 1 {
				t.Errorf("%s: %s arrived in %d transactions", remote, ev, s.count)
			}
			if i > 0 {
				prev := where[room[i-1]]
				if prev.txn > s.txn && txns[prev.txn].ReceivedTS != txns[s.txn].ReceivedTS {
					t.Errorf("%s: room %d: %s (transaction %s) arrived before the earlier %s (transaction %s)",
						remote, r, ev, s.id, room[i-1], prev.id)
				}
			}
		}
	}
	for _, room := range late {
		for _, ev := range room {
			if id := where[ev].id; !strings.HasPrefix(id, "fs-2-") {
				t.Errorf("%s: %s, written after fs-1 stalled, arrived in transaction %s, not fs-2's", remote, ev, id)
			}
		}
	}
}

// firstTxnAfter is how long after at db first received a transaction
// from origin.
func firstTxnAfter(t *testing.T, db *fedstorage.DB, origin string, at time.Time) time.Duration {
	t.Helper()
	txns, err := db.InboundTxns(context.Background(), origin)
	must(t, err)
	for _, txn := range txns {
		if txn.ReceivedTS > at.UnixMilli() {
			return time.Duration(txn.ReceivedTS-at.UnixMilli()) * time.Millisecond
		}
	}
	return -1
}
