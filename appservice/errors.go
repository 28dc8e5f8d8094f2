package appservice

import (
	"errors"
	"net/http"

	"github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/internal/httputil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// pingError maps a failed ping to the spec's answers.
func pingError(err error) httputil.JSONResponse {
	var pe *api.PingError
	switch {
	case errors.Is(err, api.ErrNoURL):
		return httputil.Error(http.StatusBadRequest, "M_URL_NOT_SET", "Application service doesn't have a URL configured")
	case errors.Is(err, api.ErrUnknownAppservice):
		return httputil.Forbidden("Unknown application service")
	case errors.As(err, &pe) && pe.Kind == "status":
		return httputil.JSONResponse{Code: http.StatusBadGateway, JSON: map[string]any{
			"errcode": "M_BAD_STATUS", "error": "Ping returned status " + http.StatusText(pe.Status),
			"status": pe.Status, "body": pe.Body,
		}}
	case errors.As(err, &pe) && pe.Kind == "timeout":
		return httputil.Error(http.StatusGatewayTimeout, "M_CONNECTION_TIMEOUT", "Connection to application service timed out")
	case errors.As(err, &pe):
		return httputil.Error(http.StatusBadGateway, "M_CONNECTION_FAILED", "Connection to application service failed: %s", pe.Detail)
	}
	return httputil.InternalError()
}

func thirdPartyError(err error) httputil.JSONResponse {
	if errors.Is(err, api.ErrUnknownProtocol) {
		return httputil.NotFound("No application service provides this protocol")
	}
	return httputil.InternalError()
}

// roomError answers a roomserver error about roomID.
func roomError(err error, roomID string) httputil.JSONResponse {
	if e, ok := rsapi.AsError(err); ok && e.Code == rsapi.CodeNotFound {
		return httputil.NotFound("Unknown room %s", roomID)
	}
	return httputil.InternalError()
}
