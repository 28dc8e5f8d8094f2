package pushserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Push delivery metrics. A label per pusher would be one series per user
// device, so these are totals over all pushers and gateways.
var (
	pushersActive = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "push_pushers",
		Help: "HTTP pushers delivered to by this process.",
	})
	pushersBusy = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "push_pushers_delivering",
		Help: "Pushers with notifications queued or being sent (their delivery goroutine is running): a gateway that stays slow keeps this up.",
	})
	gatewaysBackingOff = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "push_gateways_failing",
		Help: "Push gateways whose last request failed (retried with backoff).",
	})
	pushesSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "axon", Name: "push_notifications_total",
		Help: "Notifications handed to push gateways, by result (ok, gave_up: refused for 24 h and skipped).",
	}, []string{"result"})
)
