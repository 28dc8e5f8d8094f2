package mediaapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
)

// mediaError is a failure a client is told about as a Matrix error.
type mediaError struct {
	status int
	code   string
	msg    string
}

func (e *mediaError) Error() string { return e.code + ": " + e.msg }

func newErr(status int, code, msg string) *mediaError { return &mediaError{status, code, msg} }

// The component's domain errors, each with its Matrix error.
var (
	errNotFound        = newErr(http.StatusNotFound, "M_NOT_FOUND", "Media not found")
	errNotYetUploaded  = newErr(http.StatusGatewayTimeout, "M_NOT_YET_UPLOADED", "Media has not been uploaded yet")
	errTooLarge        = newErr(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "Upload is too large")
	errRemoteTooLarge  = newErr(http.StatusBadGateway, "M_TOO_LARGE", "Remote content is too large")
	errCannotOverwrite = newErr(http.StatusConflict, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded")
	errNotUploader     = newErr(http.StatusForbidden, "M_FORBIDDEN", "This media ID was created by another user")
	errTooManyPending  = newErr(http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many pending uploads")
	errCannotThumbnail = newErr(http.StatusBadRequest, "M_UNKNOWN", "Cannot generate thumbnails for the requested content")
	errThumbTooLarge   = newErr(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "Content is too large to thumbnail")
	errRemoteThumbSize = newErr(http.StatusBadGateway, "M_TOO_LARGE", "Remote content is too large to thumbnail")
	errRemoteFailed    = newErr(http.StatusBadGateway, "M_UNKNOWN", "Could not fetch the media from its server")
	errRemoteTimeout   = newErr(http.StatusGatewayTimeout, "M_UNKNOWN", "The media's server did not answer in time")
	errNoFederation    = newErr(http.StatusNotFound, "M_NOT_FOUND", "Remote media is not available (federation is off)")
	errPreviewDisabled = newErr(http.StatusForbidden, "M_FORBIDDEN", "URL previews are disabled on this server")
	errPreviewRefused  = newErr(http.StatusForbidden, "M_FORBIDDEN", "URL is not allowed to be previewed")
	errPreviewFailed   = newErr(http.StatusBadGateway, "M_UNKNOWN", "Could not fetch the URL")
)

func invalidParam(msg string) *mediaError {
	return newErr(http.StatusBadRequest, "M_INVALID_PARAM", msg)
}

// errorResponse maps err to its Matrix error; anything else is logged and
// answered as a 500 without detail.
func errorResponse(log *slog.Logger, err error) httputil.JSONResponse {
	var me *mediaError
	if errors.As(err, &me) {
		return httputil.Error(me.status, me.code, "%s", me.msg)
	}
	if errors.Is(err, context.Canceled) { // the client went away: nothing to log
		return httputil.Unknown("Request cancelled")
	}
	log.Error("media request failed", "error", err)
	return httputil.InternalError()
}
