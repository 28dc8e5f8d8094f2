package httputil

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeAuth struct{}

func (fakeAuth) AuthenticateToken(req *http.Request, token string) (*Device, *MatrixError) {
	if token == "good" {
		return &Device{UserID: "@a:x", ID: "D"}, nil
	}
	return nil, &MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Unknown token"}
}

func newTestRouter() *Router {
	r := NewRouter(fakeAuth{})
	r.MaxBodyBytes = 1024
	r.HandleClient("POST /echo", func(req *http.Request) JSONResponse {
		var body map[string]any
		if e := DecodeJSON(req, &body); e != nil {
			return *e
		}
		return OK(body)
	})
	r.HandleClient("GET /typed", func(req *http.Request) JSONResponse {
		var body struct {
			N int `json:"n"`
		}
		if e := UnmarshalJSON([]byte(req.URL.Query().Get("b")), &body); e != nil {
			return *e
		}
		return OK(body)
	})
	r.HandleClientAuthed("GET /me", func(req *http.Request, d *Device) JSONResponse {
		return OK(map[string]string{"user_id": d.UserID})
	})
	r.HandleClient("GET /panic", func(req *http.Request) JSONResponse { panic("boom") })
	r.HandleClientAuthed("GET /thing/{id}", func(req *http.Request, d *Device) JSONResponse {
		return OK(map[string]string{"id": req.PathValue("id")})
	})
	return r
}

func do(t *testing.T, r http.Handler, method, path, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: response is not JSON: %q", method, path, rec.Body.String())
		}
	}
	return rec.Code, out
}

func TestRouterErrors(t *testing.T) {
	r := newTestRouter()
	cases := []struct {
		name, method, path, body string
		hdr                      map[string]string
		code                     int
		errcode                  string
	}{
		{"ok", "POST", "/_matrix/client/v3/echo", `{"a":1}`, nil, 200, ""},
		{"r0 alias", "POST", "/_matrix/client/r0/echo", `{}`, nil, 200, ""},
		{"not json", "POST", "/_matrix/client/v3/echo", `{"a":`, nil, 400, "M_NOT_JSON"},
		{"not utf8", "POST", "/_matrix/client/v3/echo", "{\"a\":\"\xff\"}", nil, 400, "M_NOT_JSON"},
		{"wrong shape", "POST", "/_matrix/client/v3/echo", `[1,2]`, nil, 400, "M_BAD_JSON"},
		{"wrong type", "GET", `/_matrix/client/v3/typed?b={"n":"x"}`, "", nil, 400, "M_BAD_JSON"},
		{"too large", "POST", "/_matrix/client/v3/echo", `{"a":"` + strings.Repeat("x", 2000) + `"}`, nil, 413, "M_TOO_LARGE"},
		{"unknown endpoint", "GET", "/_matrix/client/v3/nope", "", nil, 404, "M_UNRECOGNIZED"},
		{"wrong method", "DELETE", "/_matrix/client/v3/echo", "", nil, 405, "M_UNRECOGNIZED"},
		{"missing token", "GET", "/_matrix/client/v3/me", "", nil, 401, "M_MISSING_TOKEN"},
		{"bad token", "GET", "/_matrix/client/v3/me", "", map[string]string{"Authorization": "Bearer bad"}, 401, "M_UNKNOWN_TOKEN"},
		{"malformed auth header", "GET", "/_matrix/client/v3/me", "", map[string]string{"Authorization": "Basic xyz"}, 401, "M_MISSING_TOKEN"},
		{"good token", "GET", "/_matrix/client/v3/me", "", map[string]string{"Authorization": "Bearer good"}, 200, ""},
		{"query token", "GET", "/_matrix/client/v3/me?access_token=good", "", nil, 200, ""},
		{"panic", "GET", "/_matrix/client/v3/panic", "", nil, 500, "M_UNKNOWN"},
		{"double slash", "GET", "/_matrix/client/v3//me", "", map[string]string{"Authorization": "Bearer good"}, 404, "M_UNRECOGNIZED"},
		{"escaped slashes in a segment", "GET", "/_matrix/client/v3/thing/mxc:%2F%2Fx%2Fy", "", map[string]string{"Authorization": "Bearer good"}, 200, ""},
		{"escaped slashes, no token", "GET", "/_matrix/client/v3/thing/mxc:%2F%2Fx%2Fy", "", nil, 401, "M_MISSING_TOKEN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, r, c.method, c.path, c.body, c.hdr)
			if code != c.code {
				t.Fatalf("status %d, want %d (%v)", code, c.code, body)
			}
			if c.errcode != "" && body["errcode"] != c.errcode {
				t.Fatalf("errcode %v, want %s", body["errcode"], c.errcode)
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	req := httptest.NewRequest("OPTIONS", "/_matrix/client/v3/anything", nil)
	rec := httptest.NewRecorder()
	newTestRouter().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}

func TestTrustedProxies(t *testing.T) {
	tp := ParseTrustedProxies([]string{"10.0.0.1", "192.168.0.0/16"})
	cases := []struct{ remote, xff, want string }{
		{"10.0.0.1:5000", "203.0.113.9", "203.0.113.9"},
		{"10.0.0.1:5000", "1.2.3.4, 203.0.113.9, 192.168.1.1", "203.0.113.9"}, // right-most untrusted
		{"8.8.8.8:5000", "203.0.113.9", "8.8.8.8"},                            // untrusted peer: header ignored
		{"10.0.0.1:5000", "", "10.0.0.1"},
		{"10.0.0.1:5000", "garbage", "10.0.0.1"},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.remote
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		tp.rewriteRemoteAddr(req)
		if got := ClientIP(req); got != c.want {
			t.Errorf("remote %s xff %q: client %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func TestAuthErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		"M_UNKNOWN_TOKEN": 401, "M_MISSING_TOKEN": 401, "M_FORBIDDEN": 403, "M_EXCLUSIVE": 403,
		"M_UNKNOWN_DEVICE": 400, "M_UNKNOWN": 503,
	} {
		if got := authErrorStatus(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}
