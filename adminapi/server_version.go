package adminapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
)

// serverVersion: GET /_synapse/admin/v1/server_version.
func (a *AdminAPI) serverVersion(_ *http.Request, _ *httputil.Device) httputil.JSONResponse {
	return httputil.OK(map[string]string{"server_version": "Axon " + a.version})
}
