package httputil

import "errors"

// CodedError is a component's domain error that names the Matrix error a
// client gets for it (roomserver/api.Error, federationapi/api.Error). Its
// Matrix method is the one place that error's code becomes an HTTP status,
// so every API surface answers it the same way.
type CodedError interface {
	error
	Matrix() (status int, errcode, message string)
}

// FromCoded answers the first CodedError in err's chain; ok is false when
// there is none (an internal failure the caller logs and hides).
func FromCoded(err error) (resp JSONResponse, ok bool) {
	var c CodedError
	if !errors.As(err, &c) {
		return JSONResponse{}, false
	}
	status, code, msg := c.Matrix()
	return Error(status, code, "%s", msg), true
}
