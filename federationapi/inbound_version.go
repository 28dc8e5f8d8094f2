package federationapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
)

// Version is what /_matrix/federation/v1/version reports.
var Version = "0.1.0"

// version serves /_matrix/federation/v1/version.
func (f *FederationAPI) version(*http.Request) httputil.JSONResponse {
	return httputil.OK(map[string]any{"server": map[string]string{"name": "Axon", "version": Version}})
}
