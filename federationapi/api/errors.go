package api

import (
	"net/http"

	"github.com/axon-hs/axon/internal/rpc"
)

// Error is a failure the caller can report to a client: Code is the
// Matrix errcode, Status the HTTP status.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Matrix is the error a client gets (httputil.CodedError). A remote
// server's own failure (a 5xx or an out-of-range status) reaches our
// client as 502 Bad Gateway: the fault is not on this server.
func (e *Error) Matrix() (status int, errcode, message string) {
	status = e.Status
	if status < 400 || status >= 600 || status == http.StatusInternalServerError {
		status = http.StatusBadGateway
	}
	return status, e.Code, e.Message
}

// Federation errors cross internal/rpc as themselves (errors.As works).
func init() { rpc.RegisterErrorType("federationapi.error", &Error{}) }
