package stream_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestClusterReplicas: on a 3-node cluster with Replicas 3 a stream and a
// key-value bucket are kept on all three nodes (a bucket made with one
// replica before is moved to three), and with the node leading the
// stream killed, publishing goes on, a running consumer delivers every
// message once and in order, and the bucket takes writes.
func TestClusterReplicas(t *testing.T) {
	ctx := context.Background()
	cluster := natstest.StartCluster(t, 3)
	connect := func(replicas int) *stream.Bus {
		bus, err := stream.Connect(ctx, stream.Config{URLs: cluster.URLs(), Prefix: "clustertest", Replicas: replicas})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(bus.Close)
		return bus
	}
	if _, err := connect(1).KeyValue(ctx, "leases", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	bus := connect(3)
	kv, err := bus.KeyValue(ctx, "leases", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bus.Stream(ctx, "events", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(cluster.URLs()[0] + "," + cluster.URLs()[1] + "," + cluster.URLs()[2])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"clustertest_events", "KV_clustertest_leases"} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 {
			t.Errorf("%s has %d replicas, want 3", name, info.Config.Replicas)
		}
	}

	var mu sync.Mutex
	var got []string
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := s.Consume(cctx, "c", 0, unexpectedDeadLetter(t), func(_ context.Context, m stream.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(m.Data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var want []string
	publish := func(n int) {
		t.Helper()
		for range n {
			body := fmt.Sprintf("m%d", len(want))
			// A publish in flight as the leader died may fail: retried
			// with its message ID, as the outbox does.
			testutil.Eventually(t, 30*time.Second, "publishing "+body, func() bool {
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				_, err := s.Publish(pctx, []byte(body), map[string]string{"Nats-Msg-Id": body})
				return err == nil
			})
			want = append(want, body)
		}
	}
	publish(10)
	testutil.Eventually(t, 30*time.Second, "every node current on the stream and the bucket", func() bool {
		return cluster.StreamCurrent("clustertest_events") && cluster.StreamCurrent("KV_clustertest_leases")
	})
	leader := cluster.StreamLeader("clustertest_events")
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	cluster.Kill(leader)
	publish(10)
	testutil.Eventually(t, 30*time.Second, "every message consumed after the leader was killed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	if !slices.Equal(got, want) {
		t.Errorf("consumed %v, published %v", got, want)
	}
	mu.Unlock()
	testutil.Eventually(t, 30*time.Second, "a key-value write after the node was killed", func() bool {
		_, err := kv.Put(ctx, "k", []byte("v"))
		return err == nil
	})
}
