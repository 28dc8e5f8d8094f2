package appservice

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are per appservice, for operators to see a bridge falling behind.
type metrics struct {
	depth       *prometheus.GaugeVec
	up          *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	items       *prometheus.CounterVec
	failures    *prometheus.CounterVec
}

var sharedMetrics = newMetrics()

func newMetrics() *metrics {
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "axon_appservice_queue_depth", Help: "Items waiting to be pushed to the appservice.",
		}, []string{"appservice"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "axon_appservice_up", Help: "1 if the last transaction to the appservice succeeded.",
		}, []string{"appservice"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "axon_appservice_last_success_timestamp_seconds", Help: "When a transaction last succeeded.",
		}, []string{"appservice"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axon_appservice_delivered_items_total", Help: "Events, ephemeral and to-device items delivered.",
		}, []string{"appservice"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axon_appservice_failed_transactions_total", Help: "Transaction attempts that failed.",
		}, []string{"appservice"}),
	}
	prometheus.MustRegister(m.depth, m.up, m.lastSuccess, m.items, m.failures)
	return m
}

func (m *metrics) setDepth(id string, n int64) { m.depth.WithLabelValues(id).Set(float64(n)) }
func (m *metrics) failed(id string)            { m.failures.WithLabelValues(id).Inc() }
func (m *metrics) setUp(id string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.up.WithLabelValues(id).Set(v)
}
func (m *metrics) delivered(id string, n int) {
	m.items.WithLabelValues(id).Add(float64(n))
	m.lastSuccess.WithLabelValues(id).SetToCurrentTime()
	m.up.WithLabelValues(id).Set(1)
}
