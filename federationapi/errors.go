package federationapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
)

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

// txnInProgress answers a retried transaction another process (or
// attempt) is still processing: the sender retries it later.
func txnInProgress() httputil.JSONResponse {
	return httputil.Error(http.StatusServiceUnavailable, "M_UNKNOWN", "The transaction is still being processed; retry it later")
}
