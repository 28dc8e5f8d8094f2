package e2e

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/federationapi"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// metricsSample is one series: its labels and value (a histogram's is
// its count).
type metricsSample struct {
	labels map[string]string
	value  float64
}

// metricsFamily reads a family from the registry the test's servers
// share (nil when absent).
func metricsFamily(t *testing.T, name string) []metricsSample {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	must(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		var out []metricsSample
		for _, m := range f.GetMetric() {
			s := metricsSample{labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				s.value = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				s.value = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				s.value = float64(m.GetHistogram().GetSampleCount())
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// metricsValue sums the series of name whose labels include want.
func metricsValue(t *testing.T, name string, want map[string]string) (float64, bool) {
	t.Helper()
	total, found := 0.0, false
	for _, s := range metricsFamily(t, name) {
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			total += s.value
			found = true
		}
	}
	return total, found
}

// TestMetricsAlerting: after local and federated activity (messages both
// ways, a push), /metrics serves every family the alert rules in
// docs/operations.md use, with plausible values. On both engines (the
// pool label differs: read/write on SQLite, shared on PostgreSQL).
func TestMetricsAlerting(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		optsA := opts
		optsA.Configure = func(cfg *config.Config) {
			testserver.FederatedAt(t, "127.0.0.1")(cfg)
			cfg.Listeners.Metrics.Address = "127.0.0.1:0"
			allowLoopbackGateways(cfg)
		}
		a := testserver.Start(t, optsA)
		b := fedStart(t, opts, "127.0.0.2")
		alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
		gw := newPushGateway(t)
		if r := pushSet(t, alice, gw, "metrics-key", nil, nil); r.Status != 200 {
			t.Fatalf("pusher: %d %v", r.Status, r.Body)
		}
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("bob joins over federation: %v", err)
		}
		as, bs := newFedSyncer(t, alice), newFedSyncer(t, bob)
		syncSend(t, alice, room, "hello from A")
		bs.until(20*time.Second, "A's message on B", func() bool { return bs.hasBody(room, "hello from A") })
		syncSend(t, bob, room, "hello from B")
		as.until(20*time.Second, "B's message on A", func() bool { return as.hasBody(room, "hello from B") })
		testutil.Eventually(t, 20*time.Second, "a push for B's message", func() bool {
			v, _ := metricsValue(t, "axon_push_notifications_total", map[string]string{"result": "ok"})
			return v >= 1
		})

		// Served on the metrics listener.
		text := acctRawGet(t, "http://"+a.Server.Addr("metrics")+"/metrics")
		families := []string{
			"axon_build_info", "axon_roomserver_events_persisted_total", "axon_roomserver_input_duration_seconds",
			"axon_stream_consumer_lag_messages", "axon_federation_transaction_duration_seconds",
			"axon_federation_queue_items", "axon_federation_queue_destinations", "axon_federation_queue_deepest_items",
			"axon_federation_destinations_failing", "axon_sync_long_polls_waiting", "axon_db_query_duration_seconds",
			"axon_db_pool_open_connections", "axon_db_pool_in_use_connections", "axon_db_pool_max_open_connections",
			"axon_db_pool_waits_total", "axon_db_pool_wait_seconds_total", "axon_nats_connected",
			"axon_push_pushers", "axon_push_pushers_delivering", "axon_push_gateways_failing", "axon_push_notifications_total",
			"axon_http_request_duration_seconds",
		}
		for _, f := range families {
			if !strings.Contains(text, "# TYPE "+f+" ") {
				t.Errorf("/metrics lacks %s", f)
			}
		}

		atLeast := func(name string, labels map[string]string, min float64) {
			t.Helper()
			v, ok := metricsValue(t, name, labels)
			if !ok || v < min || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s%v = %v (present %v), want at least %v", name, labels, v, ok, min)
			}
		}
		atLeast("axon_build_info", map[string]string{"version": federationapi.Version, "go_version": runtime.Version()}, 1)
		atLeast("axon_roomserver_events_persisted_total", map[string]string{"origin": "local"}, 6)      // createRoom's events and a message
		atLeast("axon_roomserver_events_persisted_total", map[string]string{"origin": "federation"}, 2) // bob's join and message on A (and A's on B)
		atLeast("axon_roomserver_input_duration_seconds", map[string]string{"origin": "local"}, 1)
		atLeast("axon_roomserver_input_duration_seconds", map[string]string{"origin": "federation"}, 1)
		atLeast("axon_federation_transaction_duration_seconds", map[string]string{"result": "ok"}, 1)
		atLeast("axon_db_query_duration_seconds", map[string]string{"db": "roomserver", "op": "write_tx"}, 1)
		atLeast("axon_db_query_duration_seconds", map[string]string{"db": "syncapi", "op": "read"}, 1)
		atLeast("axon_db_pool_max_open_connections", map[string]string{"db": "roomserver"}, 1)
		atLeast("axon_db_pool_waits_total", map[string]string{"db": "roomserver"}, 0)
		atLeast("axon_push_pushers", nil, 1)
		atLeast("axon_federation_queue_items", nil, 0)
		atLeast("axon_federation_destinations_failing", map[string]string{"state": "blacklisted"}, 0)
		if v, _ := metricsValue(t, "axon_nats_connected", nil); v != 1 {
			t.Errorf("axon_nats_connected = %v, want 1", v)
		}
		// Lag: every room_events consumer reports, and all catch up.
		lag := metricsFamily(t, "axon_stream_consumer_lag_messages")
		consumers := map[string]bool{}
		for _, s := range lag {
			if s.labels["stream"] == "room_events" {
				consumers[s.labels["consumer"]] = true
			}
		}
		if len(consumers) < 2 {
			t.Errorf("room_events consumers reporting lag: %v, want syncapi's and federationapi's at least", consumers)
		}
		testutil.Eventually(t, 20*time.Second, "consumers caught up (lag 0)", func() bool {
			for _, s := range metricsFamily(t, "axon_stream_consumer_lag_messages") {
				if s.value != 0 {
					return false
				}
			}
			return true
		})
		if p := pools(t); !p["roomserver"] {
			t.Errorf("no pool series for the roomserver database: %v", p)
		}
	})
}

// pools lists the databases with pool series (and checks the pool label
// is one of read, write, shared).
func pools(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range metricsFamily(t, "axon_db_pool_open_connections") {
		switch s.labels["pool"] {
		case "read", "write", "shared":
			out[s.labels["db"]] = true
		default:
			t.Errorf("pool label %q", fmt.Sprint(s.labels["pool"]))
		}
	}
	return out
}
