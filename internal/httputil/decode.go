package httputil

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/axon-hs/axon/internal/jsontext"
)

// DefaultMaxBodyBytes bounds JSON request bodies when no router set a
// limit (handlers called directly in tests). Behind a Router the limit is
// its MaxBodyBytes (limits.max_request_bytes).
const DefaultMaxBodyBytes = 1 << 20

type bodyLimitKey struct{}

// BodyLimit is the body size limit the router set for req.
func BodyLimit(req *http.Request) int64 {
	if n, ok := req.Context().Value(bodyLimitKey{}).(int64); ok && n > 0 {
		return n
	}
	return DefaultMaxBodyBytes
}

// ReadBody reads at most limit bytes of the request body. A larger body
// gives M_TOO_LARGE.
func ReadBody(req *http.Request, limit int64) ([]byte, *JSONResponse) {
	if req.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			r := TooLarge("Request body too large")
			return nil, &r
		}
		r := Unknown("Could not read request body")
		return nil, &r
	}
	if int64(len(data)) > limit {
		r := TooLarge("Request body too large (limit %d bytes)", limit)
		return nil, &r
	}
	return data, nil
}

// DecodeJSON reads the request body into v. An empty body decodes as {}.
// Malformed JSON gives M_NOT_JSON; well-formed JSON of the wrong shape
// gives M_BAD_JSON.
func DecodeJSON(req *http.Request, v any) *JSONResponse {
	data, errResp := ReadBody(req, BodyLimit(req))
	if errResp != nil {
		return errResp
	}
	return UnmarshalJSON(data, v)
}

// UnmarshalJSON decodes data into v with the same errors as DecodeJSON.
// Text rules (no NUL, nesting depth) are jsontext's: M_BAD_JSON.
func UnmarshalJSON(data []byte, v any) *JSONResponse {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	if r := CheckJSON(data); r != nil {
		return r
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			r := BadJSON("Wrong type for %q: expected %s", field, typeErr.Type.String())
			return &r
		}
		r := BadJSON("Invalid JSON: %v", err)
		return &r
	}
	return nil
}

// DecodeVisibility reads a directory visibility body
// ({"visibility": "public"|"private"}), shared by the room directory and
// the appservice network directories.
func DecodeVisibility(req *http.Request) (string, *JSONResponse) {
	var body struct {
		Visibility string `json:"visibility"`
	}
	if r := DecodeJSON(req, &body); r != nil {
		return "", r
	}
	if body.Visibility != "public" && body.Visibility != "private" {
		r := InvalidParam("visibility must be public or private")
		return "", &r
	}
	return body.Visibility, nil
}

// CheckJSON is what UnmarshalJSON asks of a non-empty body before it
// decodes it: valid UTF-8, valid JSON, nothing jsontext refuses. For a
// body kept as it is (event content), which needs no decoding.
func CheckJSON(data []byte) *JSONResponse {
	if !utf8.Valid(data) {
		r := NotJSON("Request body is not valid UTF-8")
		return &r
	}
	if !json.Valid(data) {
		r := NotJSON("Request body is not valid JSON")
		return &r
	}
	if err := jsontext.Check(data); err != nil {
		r := BadJSON("Request body refused: %v", err)
		return &r
	}
	return nil
}
