package appservice

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

type fakeAccounts map[string]*uapi.Account // user → account; devices "DEV" only

var accountLookups int

func (f fakeAccounts) QueryAccount(_ context.Context, userID matrixid.UserID) (*uapi.Account, error) {
	accountLookups++
	if a := f[string(userID)]; a != nil {
		return a, nil
	}
	return nil, uapi.ErrNotFound
}

func (f fakeAccounts) QueryDevice(_ context.Context, userID matrixid.UserID, deviceID string) (*uapi.DeviceInfo, error) {
	if deviceID != "DEV" {
		return nil, uapi.ErrNotFound
	}
	return &uapi.DeviceInfo{UserID: string(userID), DeviceID: deviceID}, nil
}

type nextAuth struct{ called bool }

func (n *nextAuth) AuthenticateToken(*http.Request, string) (*uapi.Device, *httputil.MatrixError) {
	n.called = true
	return &uapi.Device{UserID: "@alice:hs"}, nil
}

func TestAuthenticator(t *testing.T) {
	cfg := config.Defaults()
	cfg.ServerName = "hs"
	reg, _, err := config.ParseAppService([]byte("id: irc\nurl: null\nas_token: AS\nhs_token: HS\nsender_localpart: _irc_bot\nrate_limited: true\nnamespaces:\n  users: [{regex: '@_irc_.*', exclusive: true}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AppServices = []*config.AppService{reg}
	if err := cfg.IndexAppServices(); err != nil {
		t.Fatal(err)
	}
	next := &nextAuth{}
	a := &Authenticator{Cfg: cfg, Next: next, Users: fakeAccounts{
		"@_irc_bob:hs":  {UserID: "@_irc_bob:hs"},
		"@_irc_gone:hs": {UserID: "@_irc_gone:hs", Deactivated: true},
	}}
	auth := func(token, query string) (*uapi.Device, string) {
		dev, merr := a.AuthenticateToken(httptest.NewRequest("GET", "/x?"+query, nil), token)
		if merr != nil {
			return nil, merr.ErrCode
		}
		return dev, ""
	}
	if dev, code := auth("AS", ""); code != "" || dev.UserID != "@_irc_bot:hs" || dev.AppserviceID != "irc" || !dev.RateLimitExempt || dev.ID != "" {
		t.Fatalf("sender: %+v %s", dev, code)
	}
	if dev, code := auth("AS", "user_id=@_irc_bob:hs&device_id=DEV"); code != "" || dev.UserID != "@_irc_bob:hs" || dev.ID != "DEV" || dev.RateLimitExempt {
		t.Fatalf("masquerade (rate_limited: true): %+v %s", dev, code)
	}
	for query, want := range map[string]string{
		"user_id=@alice:hs":                   "M_EXCLUSIVE",
		"user_id=@_irc_bob:elsewhere":         "M_EXCLUSIVE",
		"user_id=@_irc_nobody:hs":             "M_FORBIDDEN",
		"user_id=@_irc_gone:hs":               "M_FORBIDDEN",
		"user_id=@_irc_bob:hs&device_id=NOPE": "M_UNKNOWN_DEVICE",
		"org.matrix.msc3202.device_id=NOPE":   "M_UNKNOWN_DEVICE",
	} {
		if _, code := auth("AS", query); code != want {
			t.Errorf("%s: %s, want %s", query, code, want)
		}
	}
	before := accountLookups
	for range 5 {
		if _, code := auth("AS", "user_id=@_irc_bob:hs"); code != "" {
			t.Fatal(code)
		}
	}
	if accountLookups != before {
		t.Fatalf("a ghost seen moments ago was looked up %d more times", accountLookups-before)
	}
	if dev, _ := auth("user-token", "user_id=@_irc_bob:hs"); !next.called || dev.UserID != "@alice:hs" {
		t.Fatalf("a normal token must go to the userapi, ignoring user_id: %+v", dev)
	}
}
