package federationapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// openIDLifetime is how long an OpenID token stays valid.
const openIDLifetime = time.Hour

// newOpenIDToken is a fresh token and the hash it is stored under (in
// federationapi_openid_tokens, so any federationapi process can check it).
func newOpenIDToken() (token, hash string) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, openIDHash(token)
}

func openIDHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RequestOpenIDToken implements fedapi.FederationAPI.
func (f *FederationAPI) RequestOpenIDToken(ctx context.Context, userID matrixid.UserID) (*fedapi.OpenIDToken, error) {
	if domainOf(string(userID)) != f.id.ServerName {
		return nil, fedErr(http.StatusForbidden, "M_FORBIDDEN", "can only issue OpenID tokens for local users")
	}
	token, hash := newOpenIDToken()
	now := time.Now()
	if err := f.store.StoreOpenIDToken(ctx, hash, string(userID), now.Add(openIDLifetime).UnixMilli(), now.UnixMilli()); err != nil {
		return nil, err
	}
	return &fedapi.OpenIDToken{
		AccessToken:      token,
		TokenType:        "Bearer",
		MatrixServerName: string(f.id.ServerName),
		ExpiresIn:        int(openIDLifetime / time.Second),
	}, nil
}

// openIDUserInfo serves /openid/userinfo: the user an OpenID token
// was issued to.
func (f *FederationAPI) openIDUserInfo(req *http.Request) httputil.JSONResponse {
	userID, err := f.store.OpenIDTokenUser(req.Context(), openIDHash(req.URL.Query().Get("access_token")), time.Now().UnixMilli())
	if err != nil {
		return f.internal("look up OpenID token", err)
	}
	if userID == "" {
		return httputil.Error(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown or expired OpenID token")
	}
	return httputil.OK(map[string]string{"sub": userID})
}
