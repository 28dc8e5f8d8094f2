package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// federationSenders is how many federationapi processes the deployment
// runs (partitioned by destination with more than one, each with an
// instance name).
const federationSenders = 2

// TestDeployment runs Axon as a scaled-out deployment on a 3-node NATS
// JetStream cluster started by the test (streams and leases with
// replicas 3) and PostgreSQL: two roomserver processes (rs-1 here, rs-2
// a child process), two syncapi replicas (sync-1 a child process, sync-2
// here), two clientapi processes, two federation senders, and userapi,
// keyserver, mediaapi and appservice once each. A user writes into 20
// rooms through both clientapis while two readers long-poll, one preferring
// each syncapi. During the load the NATS node leading room_events is
// killed, then sync-1 (the replica writing the tables) is killed
// (SIGKILL) while its reader long-polls on it: the reader goes on at
// sync-2 with the token it had, and sync-2 takes the writing over. At
// the end every acknowledged event was seen by both readers exactly
// once, in the order it was sent (each room has one writer: its DAG
// order), and no room forked.
func TestDeployment(t *testing.T) {
	bin := buildAxon(t)
	cluster := natstest.StartCluster(t, 3)
	edge1Addr := testserver.FreeLoopbackAddr(t)
	scaled := scaleConfigs(t, "deploy", func(c *config.Config) {
		c.NATS.URLs, c.NATS.Replicas = cluster.URLs(), 3
		c.ServerName, c.Listeners.Client.Address = edge1Addr, "127.0.0.1:0"
		// Federation on (the federationapi runs), with no peers.
		c.Federation.Enabled, c.Federation.InsecureSkipVerify, c.Federation.TrustedKeyServers = true, true, nil
	})
	var signingKey string
	mk := func(instance string, components ...string) *config.Config {
		c := scaled(instance, components...)
		if signingKey == "" {
			signingKey = c.ResolvePath("signing.key")
			must(t, c.LoadSigningKey())
		} else {
			c.SigningKeyPath = signingKey
		}
		return c
	}
	coreCfg := mk("", "userapi", "keyserver", "mediaapi", "appservice")
	prefix := coreCfg.NATS.Prefix
	testserver.StartWithConfig(t, coreCfg)
	startFederationSenders(t, mk)
	rs1 := testserver.StartWithConfig(t, mk("rs-1", "roomserver"))
	rs2 := startComponentProcess(t, bin, mk("rs-2", "roomserver"), "roomserver")
	// sync-1 is the replica that will write (the lease's preferred
	// holder), so killing it also moves the writing.
	names := []string{"sync-a", "sync-b"}
	if lease.Preferred(names, 0) != names[0] {
		names[0], names[1] = names[1], names[0]
	}
	sync1Cfg := mk(names[0], "syncapi")
	sync1Cfg.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
	sync1 := startComponentProcess(t, bin, sync1Cfg, "syncapi")
	sync2Cfg := mk(names[1], "syncapi")
	sync2Cfg.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
	sync2 := testserver.StartWithConfig(t, sync2Cfg)
	edge1Cfg := mk("", "clientapi")
	edge1Cfg.Listeners.Client.Address = edge1Addr
	edge1 := testserver.StartWithConfig(t, edge1Cfg)
	edge2Cfg := mk("", "clientapi")
	edge2Cfg.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
	edge2 := testserver.StartWithConfig(t, edge2Cfg)
	testutil.Eventually(t, 30*time.Second, "rs-1 and rs-2 sharing the partitions", func() bool {
		n := len(rs1.Server.Rooms.Leases().Owned())
		return n > 0 && n < scalePartitions && rs2.ownedMetric(t) == scalePartitions-n
	})
	testutil.Eventually(t, 30*time.Second, "sync-1 the one syncapi writer", func() bool {
		return sync1.ownedMetric(t) == 1 && !sync2.Server.Sync.Writer()
	})
	checkReplicas(t, cluster.URLs(), prefix, 3)

	// One user, logged in at each clientapi; two readers, each preferring
	// one syncapi replica (and moving to the other when it fails).
	alice := edge1.Register("alice", "password123")
	aliceAt2 := loginAt(t, edge2, "alice")
	bob, carol := edge1.Register("bob", "password123"), edge2.Register("carol", "password123")
	rooms := make([]id.RoomID, scaleRooms)
	for i := range rooms {
		rooms[i] = syncRoom(t, alice, bob, carol)
	}
	readers := []*syncReader{
		newSyncReader(t, "bob", rooms, at(t, sync1Cfg, bob), at(t, sync2Cfg, bob)),
		newSyncReader(t, "carol", rooms, at(t, sync2Cfg, carol), at(t, sync1Cfg, carol)),
	}
	for _, r := range readers {
		r.start()
	}
	load := newScaleLoad(rooms, alice, aliceAt2)
	load.start(t)
	// caughtUp waits until both readers have seen what was acknowledged
	// when it was called.
	caughtUp := func(what string) {
		t.Helper()
		acked := make([][]string, len(rooms))
		for i := range rooms {
			acked[i] = load.ackedIn(i)
		}
		for _, r := range readers {
			if !testutil.Within(180*time.Second, func() bool { return r.hasAll(acked) }) {
				for i, room := range rooms {
					if seen := r.seenIn(room); len(seen) < len(acked[i]) {
						t.Logf("%s, room %d: saw %d of %d acknowledged; missing %v", r.name, i, len(seen), len(acked[i]),
							missing(acked[i], seen))
					}
				}
				t.Fatalf("timed out after 3m waiting for %s to see every event acknowledged %s (reader errors: %v)", r.name, what, r.errors())
			}
		}
	}
	progress := func(what string, n int) time.Duration {
		t.Helper()
		began := time.Now()
		base := make([]int, len(rooms))
		for i := range rooms {
			base[i] = len(load.ackedIn(i))
		}
		testutil.Eventually(t, 180*time.Second, fmt.Sprintf("%d more messages acknowledged in every room %s", n, what), func() bool {
			for i := range rooms {
				if len(load.ackedIn(i)) < base[i]+n {
					return false
				}
			}
			return true
		})
		return time.Since(began)
	}
	progress("at the start", 5)
	caughtUp("at the start")
	for _, r := range readers {
		if r.servedBy(0) == 0 {
			t.Fatalf("%s was not served by its first replica", r.name)
		}
	}

	// Lose the NATS node leading room_events.
	leader := cluster.StreamLeader(prefix + "_room_events")
	if leader < 0 {
		t.Fatal("room_events has no stream leader")
	}
	clients := cluster.Clients(leader)
	cluster.Kill(leader)
	t.Logf("NATS node %d (room_events leader, %d client connections) killed: a new message acknowledged in every room %s later",
		leader+1, clients, progress("after a NATS node was killed", 1).Round(10*time.Millisecond))
	progress("after a NATS node was killed", 5)
	caughtUp("after a NATS node was killed")
	testutil.Eventually(t, 30*time.Second, "every partition held after the NATS node was lost", func() bool {
		return len(rs1.Server.Rooms.Leases().Owned())+rs2.ownedMetric(t) == scalePartitions
	})

	// Kill sync-1 while bob long-polls on it.
	testutil.Eventually(t, 30*time.Second, "bob long-polling at sync-1", func() bool { return readers[0].polling(0) })
	if sync1.ownedMetric(t) != 1 {
		t.Fatal("sync-1 is not the syncapi writer")
	}
	killed := time.Now()
	sync1.kill(t)
	testutil.Eventually(t, 30*time.Second, "sync-2 writing", func() bool { return sync2.Server.Sync.Writer() })
	t.Logf("sync-1 (the writer) killed: sync-2 writing %s later (lease TTL %s)",
		time.Since(killed).Round(10*time.Millisecond), scaleLeaseTTL)
	progress("after sync-1 was killed", 5)
	caughtUp("after sync-1 was killed")
	if readers[0].servedBy(1) == 0 {
		t.Error("bob was never served by sync-2 after sync-1 died")
	}

	load.stop(t)
	caughtUp("at the end")
	for _, r := range readers {
		r.stop()
		for i := range rooms {
			if got, want := r.seenIn(rooms[i]), load.ackedIn(i); !slices.Equal(got, want) {
				t.Errorf("%s, room %d: saw %d events %v, %d acknowledged %v", r.name, i, len(got), got, len(want), want)
			}
		}
		for _, e := range r.errors() {
			t.Error(e)
		}
	}
	checkRoomsLinear(t, rs1.Server.Rooms, rooms)
}

// missing lists what of want is not in got.
func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// startFederationSenders runs the federationapi: federationSenders
// processes, each with an instance name when there are several.
func startFederationSenders(t *testing.T, mk func(instance string, components ...string) *config.Config) {
	for i := range federationSenders {
		instance := ""
		if federationSenders > 1 {
			instance = fmt.Sprintf("fed-%d", i+1)
		}
		testserver.StartWithConfig(t, mk(instance, "federationapi"))
	}
}

// checkReplicas fails t unless room_events and the roomserver's lease
// bucket are kept on want nodes.
func checkReplicas(t *testing.T, urls []string, prefix string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(strings.Join(urls, ","))
	must(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	must(t, err)
	for _, name := range []string{prefix + "_room_events", "KV_" + prefix + "_roomserver_leases", "KV_" + prefix + "_syncapi_leases"} {
		st, err := js.Stream(ctx, name)
		must(t, err)
		info, err := st.Info(ctx)
		must(t, err)
		if info.Config.Replicas != want {
			t.Errorf("%s has %d replicas, want %d", name, info.Config.Replicas, want)
		}
	}
}

// loginAt logs localpart in (password123) at inst: a new device there.
func loginAt(t *testing.T, inst *testserver.Instance, localpart string) *mautrix.Client {
	t.Helper()
	c := inst.Client()
	_, err := c.Login(context.Background(), &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart}, Password: "password123", StoreCredentials: true})
	must(t, err)
	return c
}

// at is c's session talking to the server listening per cfg.
func at(t *testing.T, cfg *config.Config, c *mautrix.Client) *mautrix.Client {
	t.Helper()
	out, err := mautrix.NewClient("http://"+cfg.Listeners.Client.Address, c.UserID, c.AccessToken)
	must(t, err)
	out.DeviceID = c.DeviceID
	return out
}

// syncReader long-polls /sync in a goroutine, at its first client's
// server while that answers and at the next one after an error, always
// with the token it had, and records the load's messages per room (a
// limited timeline's gap filled from /messages).
type syncReader struct {
	t       *testing.T
	name    string
	clients []*mautrix.Client
	rooms   []id.RoomID
	quit    chan struct{}
	done    chan struct{}

	mu     sync.Mutex
	cur    int // client in use
	inPoll bool
	served map[int]int
	seen   map[id.RoomID][]string
	errs   []string
}

func newSyncReader(t *testing.T, name string, rooms []id.RoomID, clients ...*mautrix.Client) *syncReader {
	return &syncReader{t: t, name: name, clients: clients, rooms: rooms, quit: make(chan struct{}), done: make(chan struct{}),
		served: map[int]int{}, seen: map[id.RoomID][]string{}}
}

func (r *syncReader) start() {
	r.t.Cleanup(r.stop)
	go func() {
		defer close(r.done)
		since := ""
		for {
			resp, cur := r.poll(since)
			if resp == nil {
				return
			}
			for _, room := range r.rooms {
				jr, ok := resp.Rooms.Join[room]
				if !ok {
					continue
				}
				var got []string
				if jr.Timeline.Limited && since != "" {
					// More than the timeline limit is new: fill the gap
					// from /messages, as a client does.
					gap, err := r.fillGap(r.clients[cur], room, jr.Timeline.PrevBatch)
					if err != nil {
						r.mu.Lock()
						r.errs = append(r.errs, fmt.Sprintf("%s: filling a gap in %s: %v", r.name, room, err))
						r.mu.Unlock()
					}
					got = gap
				}
				got = append(got, loadMessages(jr.Timeline.Events)...)
				r.mu.Lock()
				r.seen[room] = append(r.seen[room], got...)
				r.mu.Unlock()
			}
			since = resp.NextBatch
		}
	}()
}

// poll long-polls /sync from since, moving to the next client after each
// error until one answers (nil once the reader is stopped, or when none
// answered within 90 s, which is recorded as an error).
func (r *syncReader) poll(since string) (*mautrix.RespSync, int) {
	var resp *mautrix.RespSync
	var cur int
	stopped := false
	answered := testutil.Within(90*time.Second, func() bool {
		select {
		case <-r.quit:
			stopped = true
			return true
		default:
		}
		r.mu.Lock()
		cur = r.cur
		r.inPoll = since != ""
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var err error
		resp, err = r.clients[cur].SyncRequest(ctx, 3000, since, syncReplicaFilter, false, "")
		cancel()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.inPoll = false
		if err != nil {
			r.cur = (cur + 1) % len(r.clients)
			return false
		}
		r.served[cur]++
		return true
	})
	if stopped {
		return nil, 0
	}
	if !answered {
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Sprintf("%s: no syncapi answered /sync for 90 s", r.name))
		r.mu.Unlock()
		return nil, 0
	}
	return resp, cur
}

// fillGap pages /messages back from prevBatch to the last event the
// reader saw in room and returns the load's messages in between, oldest
// first.
func (r *syncReader) fillGap(c *mautrix.Client, room id.RoomID, prevBatch string) ([]string, error) {
	r.mu.Lock()
	seen := r.seen[room]
	r.mu.Unlock()
	last := ""
	if len(seen) > 0 {
		last = seen[len(seen)-1]
	}
	var back []*event.Event // newest first
	from := prevBatch
	for page := 0; page < 200; page++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		resp, err := c.Messages(ctx, room, from, "", mautrix.DirectionBackward, nil, 100)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, ev := range resp.Chunk {
			if string(ev.ID) == last {
				slices.Reverse(back)
				return loadMessages(back), nil
			}
			back = append(back, ev)
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	if last != "" {
		return nil, fmt.Errorf("the last event seen (%s) not found going back", last)
	}
	slices.Reverse(back)
	return loadMessages(back), nil
}

// loadMessages are the IDs of the load's messages among evs, in order.
func loadMessages(evs []*event.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type != event.EventMessage {
			continue
		}
		if body, _ := ev.Content.Raw["body"].(string); strings.HasPrefix(body, "scale-") {
			out = append(out, string(ev.ID))
		}
	}
	return out
}

func (r *syncReader) stop() {
	select {
	case <-r.quit:
	default:
		close(r.quit)
	}
	<-r.done
}

// hasAll: has the reader seen at least acked[i] (a prefix is enough:
// order and duplicates are checked at the end) in room i?
func (r *syncReader) hasAll(acked [][]string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, room := range r.rooms {
		if len(r.seen[room]) < len(acked[i]) {
			return false
		}
	}
	return true
}

// polling: is a long-poll at client i under way?
func (r *syncReader) polling(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inPoll && r.cur == i
}

func (r *syncReader) servedBy(i int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served[i]
}

func (r *syncReader) seenIn(room id.RoomID) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen[room])
}

func (r *syncReader) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}
