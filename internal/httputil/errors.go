// Package httputil holds what every HTTP-facing component shares: Matrix
// error responses, JSON decoding with limits, the router (with Matrix
// errors for unknown endpoints), access-token auth, rate limits, CORS and
// request metrics. The router applies the input text rule (jsontext) to
// every path and query, body size limits and body read deadlines;
// LimitConnsPerIP caps connections per client IP on a listener.
package httputil

import (
	"fmt"
	"net/http"
)

// MatrixError is the standard Matrix error body.
type MatrixError struct {
	ErrCode string `json:"errcode"`
	Err     string `json:"error"`
	// RetryAfterMs is set on M_LIMIT_EXCEEDED.
	RetryAfterMs int64 `json:"retry_after_ms,omitempty"`
	// SoftLogout is set on M_UNKNOWN_TOKEN when the device still exists.
	SoftLogout bool `json:"soft_logout,omitempty"`
	// Extra fields some errors carry (e.g. room_version on
	// M_INCOMPATIBLE_ROOM_VERSION).
	Extra map[string]any `json:"-"`
}

func (e *MatrixError) Error() string { return e.ErrCode + ": " + e.Err }

// Error builds a JSON error response.
func Error(status int, errcode, format string, args ...any) JSONResponse {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return JSONResponse{Code: status, JSON: &MatrixError{ErrCode: errcode, Err: msg}}
}

// GuestForbidden is the answer to guests on endpoints not open to them.
func GuestForbidden() JSONResponse {
	return Error(http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN", "Guest accounts cannot use this endpoint")
}

// Common errors, named after their errcode.
func BadJSON(format string, args ...any) JSONResponse {
	return Error(http.StatusBadRequest, "M_BAD_JSON", format, args...)
}
func NotJSON(format string, args ...any) JSONResponse {
	return Error(http.StatusBadRequest, "M_NOT_JSON", format, args...)
}
func Forbidden(format string, args ...any) JSONResponse {
	return Error(http.StatusForbidden, "M_FORBIDDEN", format, args...)
}
func NotFound(format string, args ...any) JSONResponse {
	return Error(http.StatusNotFound, "M_NOT_FOUND", format, args...)
}
func MissingParam(format string, args ...any) JSONResponse {
	return Error(http.StatusBadRequest, "M_MISSING_PARAM", format, args...)
}
func InvalidParam(format string, args ...any) JSONResponse {
	return Error(http.StatusBadRequest, "M_INVALID_PARAM", format, args...)
}
func Unrecognized(format string, args ...any) JSONResponse {
	return Error(http.StatusNotFound, "M_UNRECOGNIZED", format, args...)
}
func Unknown(format string, args ...any) JSONResponse {
	return Error(http.StatusBadRequest, "M_UNKNOWN", format, args...)
}
func TooLarge(format string, args ...any) JSONResponse {
	return Error(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", format, args...)
}

// InternalError hides the cause from the client; the caller logs it.
func InternalError() JSONResponse {
	return Error(http.StatusInternalServerError, "M_UNKNOWN", "Internal server error")
}

// LimitExceeded is the rate-limit error with its retry hint.
func LimitExceeded(retryAfterMs int64) JSONResponse {
	return JSONResponse{
		Code:    http.StatusTooManyRequests,
		JSON:    &MatrixError{ErrCode: "M_LIMIT_EXCEEDED", Err: "Too many requests", RetryAfterMs: retryAfterMs},
		Headers: map[string]string{"Retry-After": fmt.Sprint((retryAfterMs + 999) / 1000)},
	}
}
