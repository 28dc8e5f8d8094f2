package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// openIDToken serves POST /user/{userId}/openid/request_token. The token
// is issued (and later checked, on federation /openid/userinfo) by the
// federation component, so it needs federation enabled.
func (h *roomRoutes) openIDToken(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot request an OpenID token for another user")
	}
	var body map[string]any // the spec's body is an empty object
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	fed := h.fed()
	if fed == nil {
		return httputil.Error(http.StatusNotFound, "M_UNRECOGNIZED", "OpenID tokens need federation, which is disabled")
	}
	tok, err := fed.RequestOpenIDToken(req.Context(), matrixid.UserID(dev.UserID))
	if err != nil {
		return h.rsError(err, "openid token")
	}
	return httputil.OK(tok)
}
