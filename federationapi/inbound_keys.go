package federationapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
)

func (f *FederationAPI) serverKeys(req *http.Request) httputil.JSONResponse {
	raw, err := f.id.ServerKeys(time.Now())
	if err != nil {
		f.base.Log.Error("signing server keys", "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(json.RawMessage(raw))
}

func (f *FederationAPI) queryKeys(req *http.Request) httputil.JSONResponse {
	var body gomatrixserverlib.PublicKeyNotaryLookupRequest
	if resp := httputil.DecodeJSON(req, &body); resp != nil {
		return *resp
	}
	if len(body.ServerKeys) > 100 {
		return httputil.BadJSON("Too many servers in one query")
	}
	for server := range body.ServerKeys {
		if _, _, ok := spec.ParseAndValidateServerName(server); !ok {
			return httputil.BadJSON("Invalid server name %q", server)
		}
	}
	return httputil.OK(map[string]any{"server_keys": f.ring.NotaryQuery(req.Context(), body.ServerKeys)})
}

func (f *FederationAPI) queryKeysForServer(req *http.Request) httputil.JSONResponse {
	server := spec.ServerName(req.PathValue("serverName"))
	if _, _, ok := spec.ParseAndValidateServerName(server); !ok {
		return httputil.InvalidParam("Invalid server name")
	}
	var minValid spec.Timestamp
	if v := req.URL.Query().Get("minimum_valid_until_ts"); v != "" {
		ts, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ts < 0 {
			return httputil.InvalidParam("minimum_valid_until_ts must be a timestamp")
		}
		minValid = spec.Timestamp(ts)
	}
	criteria := map[spec.ServerName]map[gomatrixserverlib.KeyID]gomatrixserverlib.PublicKeyNotaryQueryCriteria{
		server: {"": {MinimumValidUntilTS: minValid}},
	}
	return httputil.OK(map[string]any{"server_keys": f.ring.NotaryQuery(req.Context(), criteria)})
}
