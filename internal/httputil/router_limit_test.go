package httputil

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandleRawLimitMedia: a route registered with its own limit may
// receive bodies over MaxBodyBytes (media uploads); others may not.
func TestHandleRawLimitMedia(t *testing.T) {
	r := NewRouter(nil)
	r.MaxBodyBytes = 10
	read := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, err := io.ReadAll(req.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	r.HandleRawLimit("POST /upload", 100, read)
	r.HandleRaw("POST /json", read)
	for _, c := range []struct {
		path string
		size int
		want int
	}{{"/upload", 50, 200}, {"/upload", 101, 413}, {"/json", 10, 200}, {"/json", 11, 413}} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(strings.Repeat("x", c.size))))
		if rec.Code != c.want {
			t.Errorf("%s with %d bytes: %d, want %d", c.path, c.size, rec.Code, c.want)
		}
	}
}
