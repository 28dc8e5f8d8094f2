package federationapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// openIDLifetime is how long an OpenID token stays valid.
const openIDLifetime = time.Hour

// openIDTokens holds issued OpenID tokens in memory only: they live an
// hour, so losing them on a restart just makes a client ask again.
type openIDTokens struct {
	mu     sync.Mutex
	tokens map[string]openIDEntry
}

type openIDEntry struct {
	userID  string
	expires time.Time
}

func (o *openIDTokens) issue(userID string, now time.Time) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tokens == nil {
		o.tokens = map[string]openIDEntry{}
	}
	for t, e := range o.tokens { // drop expired ones so the map stays small
		if now.After(e.expires) {
			delete(o.tokens, t)
		}
	}
	o.tokens[token] = openIDEntry{userID: userID, expires: now.Add(openIDLifetime)}
	return token
}

func (o *openIDTokens) lookup(token string, now time.Time) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.tokens[token]
	if !ok || now.After(e.expires) {
		return "", false
	}
	return e.userID, true
}

// RequestOpenIDToken implements fedapi.FederationAPI.
func (f *FederationAPI) RequestOpenIDToken(_ context.Context, userID matrixid.UserID) (*fedapi.OpenIDToken, error) {
	if domainOf(string(userID)) != f.id.ServerName {
		return nil, fedErr(http.StatusForbidden, "M_FORBIDDEN", "can only issue OpenID tokens for local users")
	}
	return &fedapi.OpenIDToken{
		AccessToken:      f.openID.issue(string(userID), time.Now()),
		TokenType:        "Bearer",
		MatrixServerName: string(f.id.ServerName),
		ExpiresIn:        int(openIDLifetime / time.Second),
	}, nil
}

// openIDUserInfo serves /openid/userinfo: the user an OpenID token
// was issued to.
func (f *FederationAPI) openIDUserInfo(req *http.Request) httputil.JSONResponse {
	userID, ok := f.openID.lookup(req.URL.Query().Get("access_token"), time.Now())
	if !ok {
		return httputil.Error(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown or expired OpenID token")
	}
	return httputil.OK(map[string]string{"sub": userID})
}
