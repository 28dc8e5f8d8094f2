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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/roomserver"
	"github.com/axon-hs/axon/server/testserver"
)

// checkRoomsLinear fails t for each room whose DAG is inconsistent or
// that forked (more than one forward extremity).
func checkRoomsLinear(t *testing.T, rs *roomserver.RoomServer, rooms []id.RoomID) {
	t.Helper()
	ctx := context.Background()
	for i, r := range rooms {
		if err := rs.CheckDAG(ctx, string(r)); err != nil {
			t.Errorf("room %d: %v", i, err)
		}
		ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(r))
		must(t, err)
		if len(ext) != 1 {
			t.Errorf("room %d forked: forward extremities %v", i, ext)
		}
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
// --instance <name>` on cfg's settings: its client listener, database,
// NATS URLs, prefix and replicas, partitioning, and federation as in cfg
// (with no listener of its own: its routes are on the client listener).
func startComponentProcess(t *testing.T, bin string, cfg *config.Config, component string) *childProcess {
	t.Helper()
	dir := t.TempDir()
	metrics := testserver.FreeLoopbackAddr(t)
	urls := make([]string, len(cfg.NATS.URLs))
	for i, u := range cfg.NATS.URLs {
		urls[i] = fmt.Sprintf("%q", u)
	}
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
  client: {address: %q}
  metrics: {address: %q}
database: {default: %q}
nats: {urls: [%s], prefix: %q, replicas: %d}
logging: {level: "warn"}
%s
rate_limits: {enabled: false}
partitioning: {partitions: %d, lease_ttl: %s}
`, cfg.ServerName, dir, cfg.SigningKeyPath, cfg.Listeners.Client.Address, metrics, cfg.Database.Default,
		strings.Join(urls, ", "), cfg.NATS.Prefix, cfg.NATS.Replicas, federation, cfg.Partitioning.Partitions, cfg.Partitioning.LeaseTTL)
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

// scaleLoad writes into each room from its own goroutine, send n of a
// room through clients[n%len(clients)] (all the same user, e.g. logged
// in at different clientapi processes).
type scaleLoad struct {
	clients []*mautrix.Client
	rooms   []id.RoomID
	mu      sync.Mutex
	acked   [][]id.EventID
	quit    chan struct{}
	wg      sync.WaitGroup
}

func newScaleLoad(rooms []id.RoomID, clients ...*mautrix.Client) *scaleLoad {
	return &scaleLoad{clients: clients, rooms: rooms, acked: make([][]id.EventID, len(rooms)), quit: make(chan struct{})}
}

// start begins sending. A send is retried with its transaction ID until
// acknowledged, also after stop: when stop returns, every event the
// server may have stored was acknowledged.
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
				c := l.clients[n%len(l.clients)]
				// Retried with the same transaction ID, as a client does.
				var resp *mautrix.RespSendEvent
				var err error
				if !testutil.Within(90*time.Second, func() bool {
					resp, err = c.SendMessageEvent(context.Background(), r, event.EventMessage,
						map[string]any{"msgtype": "m.text", "body": txn}, mautrix.ReqSendEvent{TransactionID: txn})
					return err == nil
				}) {
					t.Errorf("room %d: send %s not acknowledged within 90s: %v", i, txn, err)
					return
				}
				l.mu.Lock()
				l.acked[i] = append(l.acked[i], resp.EventID)
				l.mu.Unlock()
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
