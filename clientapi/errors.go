package clientapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// errorResponse is the one place the Client-Server surface answers
// another component's failure: roomserver and federation errors as the
// Matrix errors they name (httputil.CodedError), userapi errors as below,
// anything else logged (as action) and hidden behind a 500.
func errorResponse(log *slog.Logger, err error, action string) httputil.JSONResponse {
	if r, ok := httputil.FromCoded(err); ok {
		return r
	}
	if r, ok := userError(err); ok {
		return r
	}
	if log == nil {
		log = slog.Default()
	}
	if !errors.Is(err, context.Canceled) { // a client that left is no server error
		log.Error(action, "error", err)
	}
	return httputil.InternalError()
}

// userError answers the userapi's domain errors.
func userError(err error) (httputil.JSONResponse, bool) {
	switch {
	case errors.Is(err, uapi.ErrNotFound):
		return httputil.NotFound("%s", err.Error()), true
	case errors.Is(err, uapi.ErrUserInUse):
		return httputil.Error(http.StatusBadRequest, "M_USER_IN_USE", "User ID already taken"), true
	case errors.Is(err, uapi.ErrInvalidUsername):
		return httputil.Error(http.StatusBadRequest, "M_INVALID_USERNAME", "%s", err.Error()), true
	case errors.Is(err, uapi.ErrInvalidPassword):
		return httputil.Forbidden("Invalid username or password"), true
	case errors.Is(err, uapi.ErrUserDeactivated):
		return httputil.Error(http.StatusForbidden, "M_USER_DEACTIVATED", "This account has been deactivated"), true
	case errors.Is(err, uapi.ErrInvalidLoginToken):
		return httputil.Forbidden("Invalid or expired login token"), true
	case errors.Is(err, uapi.ErrUnknownToken):
		return httputil.Error(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown or expired token"), true
	case errors.Is(err, uapi.ErrProfileTooLarge):
		return httputil.Error(http.StatusBadRequest, "M_PROFILE_TOO_LARGE", "The profile would exceed 64 KiB"), true
	case errors.Is(err, uapi.ErrTooManyTags):
		return httputil.Error(http.StatusBadRequest, "M_LIMIT_EXCEEDED", "A room may have at most %d tags", uapi.MaxRoomTags), true
	}
	return httputil.JSONResponse{}, false
}

// userError and rsError answer a failed call of the account and the room
// routes (any component's error, despite the names).
func (a *accountRoutes) userError(err error, action string) httputil.JSONResponse {
	return errorResponse(a.log, err, action)
}

func (h *roomRoutes) rsError(err error, action string) httputil.JSONResponse {
	return errorResponse(h.c.base.Log, err, action)
}
