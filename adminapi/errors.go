package adminapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// fail is the one place the admin surface answers another component's
// failure: coded errors (roomserver) as they name themselves, the
// userapi's sentinels as below, anything else logged as action and
// answered 500.
func (a *AdminAPI) fail(err error, action string) httputil.JSONResponse {
	if r, ok := httputil.FromCoded(err); ok {
		return r
	}
	switch {
	case errors.Is(err, uapi.ErrNotFound):
		return httputil.NotFound("%s", err.Error())
	case errors.Is(err, uapi.ErrUserInUse):
		return httputil.Error(http.StatusBadRequest, "M_USER_IN_USE", "User ID already taken")
	case errors.Is(err, uapi.ErrInvalidUsername):
		return httputil.Error(http.StatusBadRequest, "M_INVALID_USERNAME", "%s", err.Error())
	case errors.Is(err, uapi.ErrUserDeactivated):
		return httputil.Error(http.StatusBadRequest, "M_USER_DEACTIVATED", "This account has been deactivated")
	case errors.Is(err, uapi.ErrTokenExists):
		return httputil.InvalidParam("This registration token already exists")
	case errors.Is(err, uapi.ErrProfileTooLarge):
		return httputil.Error(http.StatusBadRequest, "M_PROFILE_TOO_LARGE", "The profile would exceed 64 KiB")
	}
	if !errors.Is(err, context.Canceled) {
		a.log.Error(action, "error", err)
	}
	return httputil.InternalError()
}

// requestError is a refusal found while carrying out a request, answered
// as the Matrix error it names.
type requestError struct {
	status        int
	errcode, text string
}

func (e requestError) Error() string { return e.text }

// Matrix implements httputil.CodedError.
func (e requestError) Matrix() (int, string, string) { return e.status, e.errcode, e.text }
