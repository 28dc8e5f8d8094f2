package appservice

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// maxLookupFields bounds what a client may pass on to appservices.
const maxLookupFields = 32

func (r *routes) protocols(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	ps, err := r.as.ThirdPartyProtocols(req.Context())
	if err != nil {
		return httputil.InternalError()
	}
	return httputil.OK(ps)
}

func (r *routes) protocol(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	p, err := r.as.ThirdPartyProtocol(req.Context(), req.PathValue("protocol"))
	if err != nil {
		return thirdPartyError(err)
	}
	return httputil.OK(p)
}

// lookup: GET /thirdparty/{location,user}/{protocol}?field=value…
func (r *routes) lookup(kind string) httputil.AuthedHandler {
	return func(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
		q := req.URL.Query()
		// Never pass on the caller's credentials or masquerading.
		for _, k := range []string{"access_token", "user_id", "device_id", "org.matrix.msc3202.device_id"} {
			q.Del(k)
		}
		if len(q) > maxLookupFields {
			return httputil.InvalidParam("Too many search fields")
		}
		out, err := r.as.ThirdPartyLookup(req.Context(), kind, req.PathValue("protocol"), q)
		if err != nil {
			return thirdPartyError(err)
		}
		return httputil.OK(out)
	}
}

// reverseLookup: GET /thirdparty/location?alias= and /thirdparty/user?userid=.
func (r *routes) reverseLookup(kind, param string) httputil.AuthedHandler {
	return func(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
		v := req.URL.Query().Get(param)
		if v == "" {
			return httputil.MissingParam("%s is required", param)
		}
		out, err := r.as.ThirdPartyLookup(req.Context(), kind, "", map[string][]string{param: {v}})
		if err != nil {
			return thirdPartyError(err)
		}
		return httputil.OK(out)
	}
}
