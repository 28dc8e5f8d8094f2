package clientapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// fakeUsers answers the few UserAPI calls registration and login make.
// Any other call hits the nil embedded interface and panics, which the
// fuzzer reports.
type fakeUsers struct{ uapi.UserAPI }

func (fakeUsers) CheckLocalpart(_ context.Context, l string) error {
	if l == "taken" {
		return uapi.ErrUserInUse
	}
	if strings.ToLower(l) != l || strings.ContainsAny(l, " :@") {
		return fmt.Errorf("%w: bad", uapi.ErrInvalidUsername)
	}
	return nil
}
func (f fakeUsers) CreateAccount(ctx context.Context, l, _ string, _ bool) (matrixid.UserID, error) {
	if err := f.CheckLocalpart(ctx, l); err != nil {
		return "", err
	}
	return matrixid.UserID("@" + l + ":test"), nil
}
func (fakeUsers) CreateGuestAccount(context.Context) (matrixid.UserID, error) {
	return "@123:test", nil
}
func (fakeUsers) Login(_ context.Context, r uapi.LoginRequest) (*uapi.Session, error) {
	return &uapi.Session{UserID: r.UserID, DeviceID: "DEV", AccessToken: "tok"}, nil
}
func (fakeUsers) CheckPassword(_ context.Context, _ matrixid.UserID, pw string) error {
	if pw == "right-password" {
		return nil
	}
	return uapi.ErrInvalidPassword
}

func newFuzzRoutes(mode string) *accountRoutes {
	cfg := config.Defaults()
	cfg.ServerName = "test"
	cfg.Registration.Mode = mode
	cfg.Registration.Tokens = []string{"tok"}
	cfg.Registration.AllowGuests = true
	base := &setup.Base{Cfg: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return newAccountRoutes(base, fakeUsers{})
}

// checkResponse: no 5xx, and the body encodes as a JSON object.
func checkResponse(t *testing.T, what string, body []byte, r httputil.JSONResponse) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Write(rec)
	if rec.Code >= 500 {
		t.Fatalf("%s %q: status %d: %s", what, body, rec.Code, rec.Body)
	}
	var obj map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil {
		t.Fatalf("%s %q: body is not a JSON object: %s", what, body, rec.Body)
	}
}

// FuzzRegisterRequest feeds arbitrary bodies through /register (both UIA
// rounds, in open and token mode), /login and the m.login.password UIA
// stage. The seed corpus runs in every `go test`.
func FuzzRegisterRequest(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"username":"alice","password":"password123"}`,
		`{"username":"Alice","password":"password123"}`, `{"username":"taken","password":"password123"}`,
		`{"password":"short"}`, `{"auth":{"type":"m.login.dummy"},"password":"password123"}`,
		`{"auth":{"type":"m.login.registration_token","token":"tok"},"username":"bob","password":"password123"}`,
		`{"auth":{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@u:test"},"password":"right-password"}}`,
		`{"auth":{"type":"m.login.password","identifier":{"type":"m.id.thirdparty","medium":"email"}}}`,
		`{"auth":{"session":"nope"}}`, `{"auth":7}`, `{"device_id":"a b"}`, `{"inhibit_login":true,"password":"password123"}`,
		`{"type":"m.login.application_service","username":"x"}`, `{"type":"m.login.password","user":"u","password":"right-password"}`,
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@u:other"},"password":"x"}`,
		"{\"username\":\"\xff\"}",
		// NUL bytes, invalid UTF-8, deep nesting, huge arrays.
		`{"username":"a\u0000b","password":"password123"}`, `{"initial_device_display_name":"\u0000"}`,
		`{"auth":{"type":"m.login.dummy","session":"\u0000"}}`, "{\"password\":\"\xc3\x28\"}", "{\"device_id\":\"\xed\xa0\x80\"}",
		`{"auth":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`,
		`{"username":"u","password":"password123","x":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`,
		`{"auth":{"type":"m.login.password","identifier":{"type":"m.id.user","user":[` + strings.Repeat(`"x",`, 20000) + `"x"]}}}`,
	} {
		f.Add([]byte(seed), "")
		f.Add([]byte(seed), "guest")
	}
	routes := map[string]*accountRoutes{"open": newFuzzRoutes("open"), "token": newFuzzRoutes("token")}
	f.Fuzz(func(t *testing.T, body []byte, kind string) {
		req := func(target string, b []byte) *http.Request {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
			r.URL.RawQuery = target
			return r
		}
		for mode, a := range routes {
			q := "kind=" + strings.ReplaceAll(kind, "&", "")
			first := a.register(req(q, body))
			checkResponse(t, mode+" register", body, first)
			// Second round: the same body with the session from the
			// challenge, as a client would send it.
			if ch, ok := first.JSON.(uia.Challenge); ok {
				var obj map[string]any
				if json.Unmarshal(body, &obj) == nil && obj != nil {
					auth, _ := obj["auth"].(map[string]any)
					if auth == nil {
						auth = map[string]any{"type": stageDummy}
					}
					auth["session"] = ch.Session
					obj["auth"] = auth
					again, _ := json.Marshal(obj)
					checkResponse(t, mode+" register (2nd round)", again, a.register(req(q, again)))
				}
			}
			checkResponse(t, mode+" login", body, a.login(req("", body)))
			var parsed struct {
				Auth *uia.Auth `json:"auth"`
			}
			if httputil.UnmarshalJSON(body, &parsed) == nil {
				dev := &uapi.Device{UserID: "@u:test", ID: "DEV"}
				if _, resp := a.uia.Authenticate(req("", body), parsed.Auth, uia.PasswordOp("delete_devices", dev.UserID)); resp != nil {
					checkResponse(t, mode+" uia", body, *resp)
				}
			}
		}
	})
}
