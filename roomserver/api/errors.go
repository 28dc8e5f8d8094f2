package api

import (
	"errors"
	"net/http"

	"github.com/axon-hs/axon/internal/rpc"
)

// ErrorCode classifies a rejected input or failed query.
type ErrorCode string

const (
	CodeNotFound  ErrorCode = "M_NOT_FOUND"
	CodeForbidden ErrorCode = "M_FORBIDDEN"
	CodeBadJSON   ErrorCode = "M_BAD_JSON"
	CodeTooLarge  ErrorCode = "M_TOO_LARGE"
	CodeBadAlias  ErrorCode = "M_INVALID_PARAM"
	CodeInUse     ErrorCode = "M_ROOM_IN_USE"
	CodeVersion   ErrorCode = "M_UNSUPPORTED_ROOM_VERSION"
	// CodeUnableToAuthoriseJoin, CodeUnableToGrantJoin: this server
	// cannot vouch for a join to a restricted room; another may (400).
	CodeUnableToAuthoriseJoin ErrorCode = "M_UNABLE_TO_AUTHORISE_JOIN"
	CodeUnableToGrantJoin     ErrorCode = "M_UNABLE_TO_GRANT_JOIN"
)

// Error is a client-meaningful failure (as opposed to an internal one,
// which comes back as a plain error).
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Matrix is the error a client gets (httputil.CodedError): the code is
// the Matrix errcode; this is the one place it gets its HTTP status, for
// the Client-Server and the federation surface alike.
func (e *Error) Matrix() (status int, errcode, message string) {
	switch e.Code {
	case CodeNotFound:
		status = http.StatusNotFound
	case CodeForbidden:
		status = http.StatusForbidden
	case CodeTooLarge:
		status = http.StatusRequestEntityTooLarge
	default:
		status = http.StatusBadRequest
	}
	return status, string(e.Code), e.Message
}

// Errorf builds an *Error.
func Errorf(code ErrorCode, msg string) *Error { return &Error{Code: code, Message: msg} }

// ErrRoomNotFound is returned by queries on rooms the server has no state for.
var ErrRoomNotFound = Errorf(CodeNotFound, "room not found")

// AsError extracts an *Error from err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Roomserver errors cross internal/rpc as themselves, so errors.Is/As
// work the same in a polylith.
func init() {
	rpc.RegisterSentinel("roomserver.room_not_found", ErrRoomNotFound)
	rpc.RegisterErrorType("roomserver.error", &Error{})
}
