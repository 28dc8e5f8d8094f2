package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// buildInfo is 1, labelled with the running version (so dashboards can
// show upgrades and alerts can join on it).
var buildInfo = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "axon", Name: "build_info",
	Help: "Always 1: the version of Axon and of Go it was built with.",
}, []string{"version", "go_version"})
