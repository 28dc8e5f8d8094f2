package natstest

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/axon-hs/axon/internal/testutil"
)

// Cluster is a private NATS JetStream cluster: nodes in this process on
// loopback ports, routed to each other, each with its own store. A node
// can be killed (and started again) to test what losing one of them does
// to a deployment.
type Cluster struct {
	t     testing.TB
	name  string
	nodes []*clusterNode
}

type clusterNode struct {
	name        string
	port        int // client port
	clusterPort int // route port
	storeDir    string
	srv         *server.Server
}

// StartCluster runs an n-node cluster, stopped when the test ends. It
// returns once JetStream has a meta leader (streams can be created).
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, name: fmt.Sprintf("axontest-%d", time.Now().UnixNano())}
	for i := range n {
		c.nodes = append(c.nodes, &clusterNode{
			name: fmt.Sprintf("n%d", i+1), port: freePort(t), clusterPort: freePort(t), storeDir: t.TempDir(),
		})
	}
	t.Cleanup(c.Stop)
	// Start all before waiting on any: a node is ready only once it has
	// routes to the others.
	for i := range c.nodes {
		c.start(i)
	}
	for i := range c.nodes {
		c.waitReady(i)
	}
	c.WaitJetStream()
	return c
}

// URLs are the nodes' client URLs, every one (a client given all of them
// reconnects to another when its node goes away).
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", n.port)
	}
	return urls
}

// Kill stops node i at once (its clients are cut off; its store stays).
func (c *Cluster) Kill(i int) {
	n := c.nodes[i]
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// Restart starts a killed node i again on its ports and store.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.start(i)
	c.waitReady(i)
}

// Stop shuts every node down.
func (c *Cluster) Stop() {
	for i := range c.nodes {
		c.Kill(i)
	}
}

// WaitJetStream waits until a running node is the JetStream meta
// leader, i.e. the cluster accepts stream operations.
func (c *Cluster) WaitJetStream() {
	c.t.Helper()
	testutil.Eventually(c.t, 60*time.Second, "a JetStream meta leader in the NATS cluster", func() bool {
		for _, n := range c.nodes {
			if n.srv != nil && n.srv.JetStreamIsLeader() {
				return true
			}
		}
		return false
	})
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	var routes []*url.URL
	for _, o := range c.nodes {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", o.clusterPort)})
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: n.name, Host: "127.0.0.1", Port: n.port,
		JetStream: true, StoreDir: n.storeDir, NoSigs: true, NoLog: true, MaxPayload: 8 << 20,
		Cluster: server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: n.clusterPort},
		Routes:  routes,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	srv.Start()
	n.srv = srv
}

func (c *Cluster) waitReady(i int) {
	c.t.Helper()
	if !c.nodes[i].srv.ReadyForConnections(60 * time.Second) {
		c.t.Fatalf("NATS node %s did not start within 60s", c.nodes[i].name)
	}
}

// StreamLeader is the index of the node leading JetStream stream name
// (-1 while none does).
func (c *Cluster) StreamLeader(name string) int {
	for i, n := range c.nodes {
		if n.srv != nil && n.srv.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, name) {
			return i
		}
	}
	return -1
}

// Clients is how many client connections node i has (0 when stopped).
func (c *Cluster) Clients(i int) int {
	if n := c.nodes[i].srv; n != nil {
		return n.NumClients()
	}
	return 0
}

// StreamCurrent reports whether every running node has stream name and
// is caught up on it (a replica still catching up cannot take over).
func (c *Cluster) StreamCurrent(name string) bool {
	for _, n := range c.nodes {
		if n.srv != nil && !n.srv.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, name) {
			return false
		}
	}
	return true
}
