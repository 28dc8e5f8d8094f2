package appservice

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// ping: POST /_matrix/client/v1/appservice/{appserviceId}/ping, only
// with that appservice's own as_token.
func (r *routes) ping(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	id := req.PathValue("appserviceId")
	if dev.AppserviceID == "" || dev.AppserviceID != id {
		return httputil.Forbidden("Provided access token is not the as_token of appservice %q", id)
	}
	var body struct {
		TransactionID string `json:"transaction_id"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if len(body.TransactionID) > 255 {
		return httputil.InvalidParam("transaction_id is longer than 255 bytes")
	}
	ms, err := r.as.Ping(req.Context(), id, body.TransactionID)
	if err != nil {
		return pingError(err)
	}
	return httputil.OK(map[string]int64{"duration_ms": ms})
}
