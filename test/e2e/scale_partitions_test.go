package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

const (
	scalePartitions = 16
	scaleLeaseTTL   = 2 * time.Second
	scaleRooms      = 20
)

// TestRoomserverPartitions runs the roomserver as several processes
// sharing the rooms by partition (docs/scaling.md), on PostgreSQL and an
// external NATS: an "edge" process (clientapi, syncapi, userapi,
// keyserver), roomserver rs-1 in this process and rs-2 as a real child
// process. Clients write into 20 rooms (some v12) while rs-2 is killed (SIGKILL):
// its partitions move to rs-1, no acknowledged event is lost (in the
// roomserver and in /messages) and no room forks. Then rs-3 joins, rs-1
// stalls (its lease renewal frozen past expiry, still believing it holds
// its partitions): a write it takes is refused by the fence in its own
// transaction and lands, once, at rs-3.
func TestRoomserverPartitions(t *testing.T) {
	mk := scaleConfigs(t, "scale", nil)
	bin := buildAxon(t)
	edgeCfg := mk("", "clientapi", "syncapi", "userapi", "keyserver")
	edgeAddr := testserver.FreeLoopbackAddr(t)
	edgeCfg.ServerName, edgeCfg.Listeners.Client.Address = edgeAddr, edgeAddr
	must(t, edgeCfg.LoadSigningKey())
	rsCfg := func(instance string) *config.Config {
		c := mk(instance, "roomserver")
		c.ServerName, c.Listeners.Client.Address = edgeAddr, "127.0.0.1:0"
		c.SigningKeyPath = edgeCfg.ResolvePath("signing.key")
		return c
	}

	rs1 := testserver.StartWithConfig(t, rsCfg("rs-1"))
	edge := testserver.StartWithConfig(t, edgeCfg)
	if len(rs1.Server.Rooms.Leases().Owned()) != scalePartitions {
		t.Fatalf("a lone roomserver holds %v", rs1.Server.Rooms.Leases().Owned())
	}
	rs2 := startComponentProcess(t, bin, rsCfg("rs-2"), "roomserver")
	testutil.Eventually(t, 20*time.Second, "rs-2 taking its share of the partitions", func() bool {
		n := len(rs1.Server.Rooms.Leases().Owned())
		return n > 0 && n < scalePartitions && rs2.ownedMetric(t) == scalePartitions-n
	})

	alice := edge.Register("alice", "password123")
	// Every fourth room has a v12 (hash-named) ID: its create event is
	// what places it in a partition of the creating process.
	rooms := make([]id.RoomID, scaleRooms)
	for i := range rooms {
		req := &mautrix.ReqCreateRoom{Preset: "public_chat"}
		if i%4 == 0 {
			req.RoomVersion = "12"
		}
		resp, err := alice.CreateRoom(context.Background(), req)
		must(t, err)
		rooms[i] = resp.RoomID
	}
	// Rooms were created in both processes' partitions.
	created := map[bool]int{}
	for _, r := range rooms {
		_, here := rs1.Server.Rooms.Leases().Owner(lease.Partition(string(r), scalePartitions))
		created[here]++
	}
	if created[true] == 0 || created[false] == 0 {
		t.Fatalf("new rooms were not placed in both processes' partitions (rs-1: true): %v", created)
	}

	// Load: one writer per room, each send retried with its transaction
	// ID until acknowledged.
	load := newScaleLoad(alice, rooms)
	load.start(t)
	testutil.Eventually(t, 60*time.Second, "5 messages acknowledged in every room", func() bool { return load.minAcked() >= 5 })

	killed := time.Now()
	rs2.kill(t)
	testutil.Eventually(t, 30*time.Second, "rs-1 holding every partition after rs-2 was killed", func() bool {
		return len(rs1.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	t.Logf("handover after SIGKILL: rs-1 held all %d partitions %s after the kill (lease TTL %s)",
		scalePartitions, time.Since(killed).Round(10*time.Millisecond), scaleLeaseTTL)
	before := load.minAcked()
	testutil.Eventually(t, 90*time.Second, "5 more messages acknowledged in every room after the handover", func() bool {
		return load.minAcked() >= before+5
	})
	load.stop(t)

	ctx := context.Background()
	for i, r := range rooms {
		acked := load.ackedIn(i)
		if err := rs1.Server.Rooms.CheckDAG(ctx, string(r)); err != nil {
			t.Errorf("room %d: %v", i, err)
		}
		ext, err := rs1.Server.Rooms.QueryForwardExtremities(ctx, matrixid.RoomID(r))
		must(t, err)
		if len(ext) != 1 {
			t.Errorf("room %d forked: forward extremities %v", i, ext)
		}
		evs, err := rs1.Server.Rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](acked))
		must(t, err)
		if len(evs) != len(acked) {
			t.Errorf("room %d: %d acknowledged events, %d stored", i, len(acked), len(evs))
		}
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("room %d: every acknowledged event in /messages", i), func() bool {
			got := messagesIDs(t, alice, r)
			for _, e := range acked {
				if !got[e] {
					return false
				}
			}
			return true
		})
	}

	// A third roomserver joins; then rs-1 stalls past its leases.
	rs3 := testserver.StartWithConfig(t, rsCfg("rs-3"))
	testutil.Eventually(t, 20*time.Second, "rs-3 taking its share", func() bool {
		n := len(rs3.Server.Rooms.Leases().Owned())
		return n > 0 && n+len(rs1.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	stale := rs1.Server.Rooms.Leases().Owned()
	rs1.Server.Rooms.Leases().Freeze()
	testutil.Eventually(t, 20*time.Second, "rs-3 holding every partition once rs-1's leases expired", func() bool {
		return len(rs3.Server.Rooms.Leases().Owned()) == scalePartitions
	})
	var target id.RoomID
	for _, r := range rooms {
		if slices.Contains(stale, lease.Partition(string(r), scalePartitions)) {
			target = r
			break
		}
	}
	if target == "" {
		t.Fatalf("no room in rs-1's partitions %v", stale)
	}
	p := lease.Partition(string(target), scalePartitions)
	if _, held := rs1.Server.Rooms.Leases().Owner(p); !held {
		t.Fatal("the stalled rs-1 no longer believes it holds the room's partition")
	}
	res, err := rs1.Server.Rooms.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{
		Local: &api.LocalEvent{RoomID: matrixid.RoomID(target), Sender: matrixid.UserID(alice.UserID), Type: "m.room.message",
			Content: json.RawMessage(`{"msgtype":"m.text","body":"after the stall"}`)},
	}}})
	if err != nil || len(res.Results) != 1 || res.Results[0].Err != nil {
		t.Fatalf("input through the stalled roomserver: %v %+v", err, res)
	}
	if _, held := rs1.Server.Rooms.Leases().Owner(p); held {
		t.Error("rs-1 still holds the partition: its write was not fenced")
	}
	if err := rs3.Server.Rooms.CheckDAG(ctx, string(target)); err != nil {
		t.Error(err)
	}
	ext, err := rs3.Server.Rooms.QueryForwardExtremities(ctx, matrixid.RoomID(target))
	must(t, err)
	if len(ext) != 1 || ext[0] != res.Results[0].EventID {
		t.Errorf("after the fenced write the room's extremities are %v, want only %s", ext, res.Results[0].EventID)
	}
}

// buildAxon compiles the axon binary for child processes.
func buildAxon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "axon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/axon")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build axon: %v\n%s", err, out)
	}
	return bin
}

// childProcess is one partitioned component running as a process of its
// own.
type childProcess struct {
	cmd       *exec.Cmd
	component string
	instance  string
	metrics   string
	done      chan struct{}
}

// startComponentProcess runs `axon run --components <component>
// --instance <name>` on cfg's settings (federation as in cfg, with no
// listener of its own: its routes are on the client listener).
func startComponentProcess(t *testing.T, bin string, cfg *config.Config, component string) *childProcess {
	t.Helper()
	dir := t.TempDir()
	metrics := testserver.FreeLoopbackAddr(t)
	federation := "federation: {enabled: false}"
	if cfg.Federation.Enabled {
		nets, err := json.Marshal(cfg.Federation.AllowedPrivateNetworks)
		must(t, err)
		federation = fmt.Sprintf("federation: {enabled: true, insecure_skip_verify: %t, trusted_key_servers: [], allowed_private_networks: %s}",
			cfg.Federation.InsecureSkipVerify, nets)
	}
	yaml := fmt.Sprintf(`server_name: %q
data_dir: %q
signing_key_path: %q
listeners:
  client: {address: "127.0.0.1:0"}
  metrics: {address: %q}
database: {default: %q}
nats: {urls: [%q], prefix: %q}
logging: {level: "warn"}
%s
partitioning: {partitions: %d, lease_ttl: %s}
`, cfg.ServerName, dir, cfg.SigningKeyPath, metrics, cfg.Database.Default, cfg.NATS.URLs[0], cfg.NATS.Prefix,
		federation, cfg.Partitioning.Partitions, cfg.Partitioning.LeaseTTL)
	path := filepath.Join(dir, "axon.yaml")
	must(t, os.WriteFile(path, []byte(yaml), 0o600))
	c := &childProcess{component: component, instance: cfg.Partitioning.Instance, metrics: metrics, done: make(chan struct{})}
	c.cmd = exec.Command(bin, "run", "--config", path, "--components", component, "--instance", c.instance)
	if os.Getenv("AXON_TEST_LOG") == "1" {
		c.cmd.Stderr = os.Stderr
	}
	must(t, c.cmd.Start())
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill(t) })
	testutil.Eventually(t, 60*time.Second, c.instance+" serving metrics", func() bool { return c.ownedMetric(t) >= 0 })
	return c
}

// ownedMetric reads axon_partitions_owned from the process (-1 while it
// does not answer).
func (c *childProcess) ownedMetric(t *testing.T) int {
	resp, err := http.Get("http://" + c.metrics + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	want := fmt.Sprintf(`axon_partitions_owned{component=%q,instance=%q} `, c.component, c.instance)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, want); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err == nil {
				return n
			}
		}
	}
	return 0
}

// kill ends the process at once (SIGKILL): nothing is given back.
func (c *childProcess) kill(t *testing.T) {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill %s: %v", c.instance, err)
	}
	<-c.done
}

// scaleLoad writes into each room from its own goroutine.
type scaleLoad struct {
	c     *mautrix.Client
	rooms []id.RoomID
	mu    sync.Mutex
	acked [][]id.EventID
	quit  chan struct{}
	wg    sync.WaitGroup
}

func newScaleLoad(c *mautrix.Client, rooms []id.RoomID) *scaleLoad {
	return &scaleLoad{c: c, rooms: rooms, acked: make([][]id.EventID, len(rooms)), quit: make(chan struct{})}
}

func (l *scaleLoad) start(t *testing.T) {
	for i, r := range l.rooms {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-l.quit:
					return
				default:
				}
				txn := fmt.Sprintf("scale-%d-%d", i, n)
				deadline := time.Now().Add(90 * time.Second)
				for {
					resp, err := l.c.SendMessageEvent(context.Background(), r, event.EventMessage,
						map[string]any{"msgtype": "m.text", "body": txn}, mautrix.ReqSendEvent{TransactionID: txn})
					if err == nil {
						l.mu.Lock()
						l.acked[i] = append(l.acked[i], resp.EventID)
						l.mu.Unlock()
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("room %d: send %s not acknowledged within 90s: %v", i, txn, err)
						return
					}
					select {
					case <-l.quit:
						return
					case <-time.After(200 * time.Millisecond): // a client's retry pause, not a wait for a condition
					}
				}
			}
		}()
	}
}

func (l *scaleLoad) stop(t *testing.T) {
	close(l.quit)
	l.wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func (l *scaleLoad) minAcked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := -1
	for _, a := range l.acked {
		if m < 0 || len(a) < m {
			m = len(a)
		}
	}
	return m
}

func (l *scaleLoad) ackedIn(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.acked[i]))
	for j, e := range l.acked[i] {
		out[j] = string(e)
	}
	return out
}

// messagesIDs lists the event IDs /messages returns for the room.
func messagesIDs(t *testing.T, c *mautrix.Client, room id.RoomID) map[string]bool {
	got := map[string]bool{}
	from := ""
	for page := 0; page < 50; page++ {
		resp, err := c.Messages(context.Background(), room, from, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			t.Logf("messages: %v", err)
			return got
		}
		for _, e := range resp.Chunk {
			got[string(e.ID)] = true
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	return got
}
