package sender

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outbound federation metrics. No destination labels: a server talks to
// unboundedly many; the admin API lists failing destinations by name.
var (
	txnDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "axon", Name: "federation_transaction_duration_seconds",
		Help:    "Outbound federation transaction (PUT /send) latency, by result (ok, error).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"result"})
	queueItems = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "federation_queue_items",
		Help: "PDUs and EDUs waiting in the outbound federation queue (sampled every 15 s).",
	})
	queueDestinations = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "federation_queue_destinations",
		Help: "Destinations with items waiting in the outbound queue (sampled every 15 s).",
	})
	queueDeepest = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "axon", Name: "federation_queue_deepest_items",
		Help: "Items waiting for the destination with the longest queue (sampled every 15 s).",
	})
	destinationsDown = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "axon", Name: "federation_destinations_failing",
		Help: "Destinations outbound federation fails to reach, by state: backoff (retrying) or blacklisted (sampled every 15 s).",
	}, []string{"state"})
)

// statsEvery is how often the queue gauges are sampled (two aggregate
// queries).
const statsEvery = 15 * time.Second

// sampleLoop refreshes the queue gauges until the sender stops.
func (s *Sender) sampleLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(statsEvery)
	defer t.Stop()
	for {
		s.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sender) sample(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if q, err := s.store.QueueStats(ctx); err == nil {
		queueItems.Set(float64(q.Items))
		queueDestinations.Set(float64(q.Destinations))
		queueDeepest.Set(float64(q.Deepest))
	} else if ctx.Err() == nil {
		s.cfg.Log.Warn("sampling the federation queue", "error", err)
	}
	if failing, blacklisted, err := s.store.DestinationStats(ctx); err == nil {
		destinationsDown.WithLabelValues("backoff").Set(float64(failing))
		destinationsDown.WithLabelValues("blacklisted").Set(float64(blacklisted))
	}
}

func observeTxn(start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	txnDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
}
