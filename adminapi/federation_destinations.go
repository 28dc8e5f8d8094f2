package adminapi

import (
	"net/http"
	"strconv"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
)

// destinationJSON is a destination as the Synapse admin API shows it,
// plus Axon's own fields (failures, retry_at_ts, blacklisted).
type destinationJSON struct {
	Destination string `json:"destination"`
	// RetryLastTS is not tracked (0); RetryAtTS says when the next try is.
	RetryLastTS   int64  `json:"retry_last_ts"`
	RetryInterval int64  `json:"retry_interval"`
	FailureTS     *int64 `json:"failure_ts"`
	// LastSuccessfulStreamOrdering is not tracked.
	LastSuccessfulStreamOrdering *int64 `json:"last_successful_stream_ordering"`
	Failures                     int64  `json:"failures"`
	RetryAtTS                    int64  `json:"retry_at_ts"`
	Blacklisted                  bool   `json:"blacklisted"`
}

func newDestinationJSON(d fedapi.Destination) destinationJSON {
	out := destinationJSON{Destination: d.ServerName, Failures: d.Failures, RetryAtTS: d.RetryAtTS, Blacklisted: d.Blacklisted}
	if d.FirstFailureTS > 0 {
		out.FailureTS = &d.FirstFailureTS
	}
	out.RetryInterval = max(0, d.RetryAtTS-time.Now().UnixMilli())
	return out
}

// federation answers 400 when federation is disabled.
func (a *AdminAPI) federation() *httputil.JSONResponse {
	if a.fed == nil {
		r := httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Federation is disabled on this server")
		return &r
	}
	return nil
}

// listDestinations: GET /_synapse/admin/v1/federation/destinations?from&limit.
// Only destinations with a failure recorded are listed: healthy ones
// keep no state.
func (a *AdminAPI) listDestinations(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.federation(); e != nil {
		return *e
	}
	from, limit, e := paging(req, 100)
	if e != nil {
		return *e
	}
	all, err := a.fed.QueryDestinations(req.Context())
	if err != nil {
		return a.fail(err, "list destinations")
	}
	start := min(from, len(all))
	end := min(start+limit, len(all))
	out := make([]destinationJSON, 0, end-start)
	for _, d := range all[start:end] {
		out = append(out, newDestinationJSON(d))
	}
	body := map[string]any{"destinations": out, "total": len(all)}
	if end < len(all) {
		body["next_token"] = strconv.Itoa(end)
	}
	return httputil.OK(body)
}

// getDestination: GET /_synapse/admin/v1/federation/destinations/{destination}.
func (a *AdminAPI) getDestination(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.federation(); e != nil {
		return *e
	}
	name := req.PathValue("destination")
	all, err := a.fed.QueryDestinations(req.Context())
	if err != nil {
		return a.fail(err, "list destinations")
	}
	for _, d := range all {
		if d.ServerName == name {
			return httputil.OK(newDestinationJSON(d))
		}
	}
	// Healthy (or never contacted): no failure recorded.
	return httputil.OK(newDestinationJSON(fedapi.Destination{ServerName: name}))
}

// resetDestination: POST .../federation/destinations/{destination}/reset_connection
// ends the backoff so queued events are sent at once.
func (a *AdminAPI) resetDestination(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.federation(); e != nil {
		return *e
	}
	name := req.PathValue("destination")
	if name == "" || len(name) > 255 || name == a.serverName {
		return httputil.InvalidParam("%q is not another server", name)
	}
	if err := a.fed.ResetDestination(req.Context(), name); err != nil {
		return a.fail(err, "reset destination")
	}
	return httputil.Empty()
}
