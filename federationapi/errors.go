package federationapi

import "github.com/axon-hs/axon/internal/httputil"

// rsError is the one place the federation surface answers another
// component's failure: the Matrix error it names (httputil.CodedError,
// e.g. a roomserver rejection), otherwise a logged 500.
func (f *FederationAPI) rsError(what string, err error) httputil.JSONResponse {
	if r, ok := httputil.FromCoded(err); ok {
		return r
	}
	return f.internal(what, err)
}

// internal logs the cause of an internal failure and answers 500.
func (f *FederationAPI) internal(what string, err error) httputil.JSONResponse {
	f.base.Log.Error("federation request failed", "what", what, "error", err)
	return httputil.InternalError()
}
