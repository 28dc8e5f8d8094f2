package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// writerCluster is a core process and two processes of one component
// with instance names (docs/scaling.md, single writer), on PostgreSQL and
// an external NATS.
type writerCluster struct {
	t        *testing.T
	core     *testserver.Instance
	replicas []*testserver.Instance
	// held reports whether a replica holds the component's writer lease;
	// leases is its lease manager.
	held   func(*testserver.Instance) bool
	leases func(*testserver.Instance) *lease.Manager
}

// writerClusterOpts says what runs where.
type writerClusterOpts struct {
	name      string   // prefix of the NATS subjects and instance names
	component string   // run by each replica
	core      []string // run by the core process
	// clientListener: the replicas serve client routes (syncapi).
	clientListener bool
	configure      func(*config.Config)
	held           func(*testserver.Instance) bool
	leases         func(*testserver.Instance) *lease.Manager
}

// scaleConfigs makes the configs of processes that share one PostgreSQL
// database and one NATS prefix (named after name), with the scale tests'
// lease TTL and partitions; configure, if set, adjusts each. It skips the
// test without NATS or PostgreSQL.
func scaleConfigs(t *testing.T, name string, configure func(*config.Config)) func(instance string, components ...string) *config.Config {
	if os.Getenv("AXON_SKIP_NATS") == "1" || os.Getenv("AXON_SKIP_POSTGRES") == "1" {
		t.Skip("needs the external NATS server and PostgreSQL")
	}
	prefix := fmt.Sprintf("axon%s%d", name, time.Now().UnixNano())
	dsn := storagetest.PostgresDSN(t)
	return func(instance string, components ...string) *config.Config {
		return testserver.NewConfig(t, testserver.Options{ExternalNATS: true, Configure: func(c *config.Config) {
			c.NATS.Prefix = prefix
			c.Components = components
			c.Database.Default = dsn
			c.Partitioning.Instance = instance
			c.Partitioning.Partitions = scalePartitions
			c.Partitioning.LeaseTTL = scaleLeaseTTL
			if configure != nil {
				configure(c)
			}
		}})
	}
}

// oneServer makes first the server's public process (its client
// listener is the server name; it makes the signing key) and others
// processes of the same server; an other listens for clients when
// listens says so, else on a port nobody uses.
func oneServer(t *testing.T, first *config.Config, listens bool, others ...*config.Config) {
	addr := testserver.FreeLoopbackAddr(t)
	first.ServerName, first.Listeners.Client.Address = addr, addr
	must(t, first.LoadSigningKey())
	for _, c := range others {
		c.ServerName = addr
		c.Listeners.Client.Address = "127.0.0.1:0"
		if listens {
			c.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
		}
		c.SigningKeyPath = first.ResolvePath("signing.key")
	}
}

func startWriterCluster(t *testing.T, o writerClusterOpts) *writerCluster {
	mk := scaleConfigs(t, o.name, o.configure)
	coreCfg := mk("", o.core...)
	replicaCfgs := []*config.Config{mk(o.name+"-1", o.component), mk(o.name+"-2", o.component)}
	oneServer(t, coreCfg, o.clientListener, replicaCfgs...)
	wc := &writerCluster{t: t, held: o.held, leases: o.leases}
	wc.core = testserver.StartWithConfig(t, coreCfg)
	for _, c := range replicaCfgs {
		wc.replicas = append(wc.replicas, testserver.StartWithConfig(t, c))
	}
	return wc
}

// writer is the index of the one replica holding the lease.
func (wc *writerCluster) writer() int {
	w := -1
	testutil.Eventually(wc.t, 20*time.Second, "exactly one writer", func() bool {
		a, b := wc.held(wc.replicas[0]), wc.held(wc.replicas[1])
		if a == b {
			return false
		}
		w = map[bool]int{true: 0, false: 1}[a]
		return true
	})
	return w
}

// killWriter freezes the writer's lease (it expires as after a crash,
// the process still believing it holds it) and stops the process; it
// returns the survivor's index and when the writer died.
func (wc *writerCluster) killWriter() (int, time.Time) {
	w := wc.writer()
	wc.leases(wc.replicas[w]).Freeze()
	killed := time.Now()
	wc.replicas[w].Stop()
	return 1 - w, killed
}

// awaitTakeover waits for the survivor to write and logs the handover time.
func (wc *writerCluster) awaitTakeover(survivor int, killed time.Time) {
	s := wc.replicas[survivor]
	testutil.Eventually(wc.t, 30*time.Second, "the survivor taking the writer lease", func() bool { return wc.held(s) })
	wc.t.Logf("writer failover: %s writing %s after the writer died (lease TTL %s)", s.Cfg.Partitioning.Instance,
		time.Since(killed).Round(10*time.Millisecond), scaleLeaseTTL)
}
