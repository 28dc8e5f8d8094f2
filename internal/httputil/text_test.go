package httputil

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRouterRefusesNonText: a NUL or invalid UTF-8 in the path or the
// query is 400 M_INVALID_PARAM before any handler runs; a JSON body
// with an escaped NUL is 400 M_BAD_JSON; a declared length over the
// limit is 413 without reading; a body up to the router's limit (not a
// fixed 1 MiB) is decoded.
func TestRouterRefusesNonText(t *testing.T) {
	r := newTestRouter()
	for _, c := range []struct {
		method, target, body string
		status               int
		errcode              string
	}{
		{"POST", "/_matrix/client/v3/echo%00", `{}`, 400, "M_INVALID_PARAM"},
		{"POST", "/_matrix/client/v3/echo%ff", `{}`, 400, "M_INVALID_PARAM"},
		{"GET", "/_matrix/client/v3/typed?b=%00", ``, 400, "M_INVALID_PARAM"},
		{"GET", "/_matrix/client/v3/typed?x%ff=1", ``, 400, "M_INVALID_PARAM"},
		{"GET", "/_matrix/client/v3/me?access_token=%ff", ``, 400, "M_INVALID_PARAM"},
		{"POST", "/_matrix/client/v3/echo", `{"a":"\u0000"}`, 400, "M_BAD_JSON"},
		{"POST", "/_matrix/client/v3/echo", strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65), 400, "M_BAD_JSON"},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.errcode) {
			t.Errorf("%s %s %q: %d %s, want %d %s", c.method, c.target, c.body, rec.Code, rec.Body, c.status, c.errcode)
		}
	}

	req := httptest.NewRequest("POST", "/_matrix/client/v3/echo", strings.NewReader(`{}`))
	req.ContentLength = 1 << 40
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || rec.Header().Get("Connection") != "close" {
		t.Fatalf("declared 1 TiB: %d %v", rec.Code, rec.Header())
	}

	big := NewRouter(fakeAuth{})
	big.MaxBodyBytes = 4 << 20
	big.HandleClient("POST /echo", func(req *http.Request) JSONResponse {
		var body map[string]any
		if e := DecodeJSON(req, &body); e != nil {
			return *e
		}
		return Empty()
	})
	rec = httptest.NewRecorder()
	big.ServeHTTP(rec, httptest.NewRequest("POST", "/_matrix/client/v3/echo", strings.NewReader(`{"v":"`+strings.Repeat("x", 2<<20)+`"}`)))
	if rec.Code != http.StatusOK {
		t.Fatalf("2 MiB under a 4 MiB limit: %d %s", rec.Code, rec.Body)
	}
}
