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
	if _, special := body.(json.RawMessage); !special {
		if _, special = body.(*MatrixError); !special {
			r.stream(w, code, body)
			return
		}
	}
	data, err := marshalBody(body)
	if err != nil {
		slog.Error("encode response", "error", err)
		code, data = http.StatusInternalServerError, internalError
	}
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

var internalError = []byte(`{"errcode":"M_UNKNOWN","error":"Internal server error"}`)

// stream encodes body straight into w: json.Marshal would copy the
// encoded bytes once more (for a /sync with a full timeline, tens of KB
// per response, and a herd of them at once raised the peak RSS). The
// encoder writes only once the whole body has encoded, so an encoding
// error still becomes a 500.
func (r JSONResponse) stream(w http.ResponseWriter, code int, body any) {
	hw := &headerOnWrite{w: w, code: code}
	if err := json.NewEncoder(hw).Encode(body); err != nil && !hw.wrote {
		slog.Error("encode response", "error", err)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(internalError)
	}
}

// headerOnWrite sends the status before the first byte of the body and
// drops the newline json.Encoder ends its one Write with, so the body is
// byte for byte what json.Marshal gives.
type headerOnWrite struct {
	w     http.ResponseWriter
	code  int
	wrote bool
}

func (h *headerOnWrite) Write(p []byte) (int, error) {
	if !h.wrote {
		h.wrote = true
		h.w.WriteHeader(h.code)
	}
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	if _, err := h.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
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
