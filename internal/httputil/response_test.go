package httputil

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The streamed body must be what json.Marshal gives (no trailing
// newline, HTML escaped), with the handler's status.
func TestWriteStreamsMarshalBytes(t *testing.T) {
	body := map[string]any{"next_batch": "s1_2", "html": "<b>&</b>", "n": []int{1, 2}}
	want, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	JSONResponse{Code: http.StatusCreated, JSON: body}.Write(rec)
	if rec.Code != http.StatusCreated {
		t.Errorf("status %d, want 201", rec.Code)
	}
	if got := rec.Body.String(); got != string(want) {
		t.Errorf("body %q, want %q", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// A body that cannot be encoded is a 500 with a Matrix error, nothing
// of the half-encoded body.
func TestWriteEncodeErrorIs500(t *testing.T) {
	rec := httptest.NewRecorder()
	OK(map[string]float64{"x": math.NaN()}).Write(rec)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	if got := rec.Body.String(); got != string(internalError) {
		t.Errorf("body %q", got)
	}
}
