package syncapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// longPollsWaiting is how many /sync (and sliding sync) long-polls are
// parked: they found nothing new and wait for the notifier.
var longPollsWaiting = promauto.NewGauge(prometheus.GaugeOpts{
	Namespace: "axon",
	Name:      "sync_long_polls_waiting",
	Help:      "Long-polling sync requests parked until news arrives or they time out.",
})

// waitForNews parks a long-poll that found nothing. It returns true when
// wake fires (build the response again) and false when the timer, the
// request or the server ends first (answer with what there is).
func (s *SyncAPI) waitForNews(ctx context.Context, wake <-chan struct{}, timer <-chan time.Time) bool {
	longPollsWaiting.Inc()
	defer longPollsWaiting.Dec()
	select {
	case <-wake:
		return true
	case <-timer:
	case <-ctx.Done():
	case <-s.notif.Closed():
	}
	return false
}
