package keyserver

import (
	"errors"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/keyserver/api"
)

// apiError answers an error from the KeyserverAPI: the known ones as
// their Matrix errors, anything else as a logged 500.
func (k *routes) apiError(err error, what string) httputil.JSONResponse {
	switch {
	case errors.Is(err, api.ErrInvalidKeys):
		return httputil.InvalidParam("%v", err)
	case errors.Is(err, api.ErrInvalidSignature):
		return httputil.Error(http.StatusBadRequest, "M_INVALID_SIGNATURE", "%v", err)
	case errors.Is(err, api.ErrMissingMasterKey):
		return httputil.MissingParam("No master signing key is available")
	case errors.Is(err, api.ErrKeyInUse):
		return httputil.Forbidden("%v", err)
	case errors.Is(err, api.ErrNoBackup):
		return httputil.NotFound("Unknown backup version")
	case errors.Is(err, api.ErrNotLocal):
		return httputil.Forbidden("Not a local user")
	}
	k.log.Error(what, "error", err)
	return httputil.InternalError()
}
