package stream

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// NATS connection state, for alerting on a lost log: 1 while every open
// connection of this process is connected (one in a real process; tests
// run several servers in one).
var (
	liveBusesMu sync.Mutex
	liveBuses   = map[*Bus]bool{}
)

func init() {
	prometheus.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "axon",
		Name:      "nats_connected",
		Help:      "1 while the connection to NATS (embedded or external) is up, 0 while it is lost and reconnecting.",
	}, natsConnected))
}

func natsConnected() float64 {
	liveBusesMu.Lock()
	defer liveBusesMu.Unlock()
	for b := range liveBuses {
		if !b.nc.IsConnected() {
			return 0
		}
	}
	return 1
}

func trackBus(b *Bus, live bool) {
	liveBusesMu.Lock()
	defer liveBusesMu.Unlock()
	if live {
		liveBuses[b] = true
	} else {
		delete(liveBuses, b)
	}
}
