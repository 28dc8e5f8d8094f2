package mediaapi

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Media metrics, for operators watching storage and federation traffic.
var (
	uploadedBytes = promauto.NewCounter(prometheus.CounterOpts{
		Name: "axon_media_uploaded_bytes_total", Help: "Bytes of media uploaded by local users.",
	})
	remoteFetches = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "axon_media_remote_fetches_total", Help: "Remote media fetches, by result (ok, legacy, error).",
	}, []string{"result"})
	thumbnailsMade = promauto.NewCounter(prometheus.CounterOpts{
		Name: "axon_media_thumbnails_made_total", Help: "Thumbnails rendered (at upload and on demand).",
	})
)
