package roomserver

import (
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/axon-hs/axon/roomserver/api"
)

// Room input metrics, by origin: "local" (this server's users) or
// "federation" (other servers' events).
var (
	// partitionInputs is the lag of a partition as callers see it.
	partitionInputs = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "axon_partition_inputs_pending",
		Help: "Room input routed through this roomserver process and not yet answered, by partition (waiting for its room, running, or forwarded to the holder); partitioned roomservers only.",
	}, []string{"component", "instance", "partition"})
	eventsPersisted = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "axon", Name: "roomserver_events_persisted_total",
		Help: "Events stored by the roomserver (committed), by origin (local, federation).",
	}, []string{"origin"})
	inputDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "axon", Name: "roomserver_input_duration_seconds",
		Help:    "Room input latency, from the request to its answer (queueing behind the room's other input included), by origin of the first event.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"origin"})
)

// The origin label values, indexed by batch.persisted.
const (
	originLocal = iota
	originFederation
)

var originNames = [...]string{originLocal: "local", originFederation: "federation"}

// originOf is local for events this server makes (built here, or sent
// by one of our users through another server's make_join); pdu is the
// event itself when it is not in's (auth and missing events).
func (r *RoomServer) originOf(in *api.InputRoomEvent, pdu gomatrixserverlib.PDU) int {
	if in != nil && in.Local != nil {
		return originLocal
	}
	if pdu == nil && in != nil && in.Event != nil {
		pdu = in.Event.PDU
	}
	if pdu != nil {
		if sender := pdu.SenderID().ToUserID(); sender != nil && sender.Domain() == r.serverName {
			return originLocal
		}
	}
	return originFederation
}

// countPersisted adds a committed batch's events to the counter.
func countPersisted(n [2]int) {
	for origin, c := range n {
		if c > 0 {
			eventsPersisted.WithLabelValues(originNames[origin]).Add(float64(c))
		}
	}
}

// observeInput records one InputRoomEvents call.
func (r *RoomServer) observeInput(req *api.InputRoomEventsRequest, start time.Time) {
	inputDuration.WithLabelValues(originNames[r.originOf(&req.Events[0], nil)]).Observe(time.Since(start).Seconds())
}
