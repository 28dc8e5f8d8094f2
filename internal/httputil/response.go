package httputil

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// JSONResponse is what handlers return: a status, a body to encode as JSON
// and optional headers. Raw, when set, is written as-is instead of JSON.
type JSONResponse struct {
	Code    int
	JSON    any
	Headers map[string]string
}

// OK is a 200 with body.
func OK(body any) JSONResponse { return JSONResponse{Code: http.StatusOK, JSON: body} }

// Empty is a 200 with "{}".
func Empty() JSONResponse { return JSONResponse{Code: http.StatusOK, JSON: struct{}{}} }

// IsError reports whether the response is an error.
func (r JSONResponse) IsError() bool { return r.Code >= 400 }

// Write sends the response.
func (r JSONResponse) Write(w http.ResponseWriter) {
	for k, v := range r.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	code := r.Code
	if code == 0 {
		code = http.StatusOK
	}
	body := r.JSON
	if body == nil {
		body = struct{}{}
	}
	data, err := marshalBody(body)
	if err != nil {
		slog.Error("encode response", "error", err)
		code, data = http.StatusInternalServerError, []byte(`{"errcode":"M_UNKNOWN","error":"Internal server error"}`)
	}
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

func marshalBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case json.RawMessage:
		return b, nil
	case *MatrixError:
		if len(b.Extra) == 0 {
			return json.Marshal(b)
		}
		m := map[string]any{"errcode": b.ErrCode, "error": b.Err}
		for k, v := range b.Extra {
			m[k] = v
		}
		if b.RetryAfterMs > 0 {
			m["retry_after_ms"] = b.RetryAfterMs
		}
		return json.Marshal(m)
	}
	return json.Marshal(body)
}
