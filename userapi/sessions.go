package userapi

import (
	"context"
	"errors"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// Token prefixes make leaked tokens recognisable (e.g. to secret scanners).
const (
	accessTokenPrefix  = "axa_"
	refreshTokenPrefix = "axr_"
)

// Login implements api.UserAPI.
func (u *UserAPI) Login(ctx context.Context, req api.LoginRequest) (*api.Session, error) {
	acc, err := u.account(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if acc.Deactivated {
		return nil, api.ErrUserDeactivated
	}
	deviceID := req.DeviceID
	if deviceID == "" {
		deviceID = newDeviceID()
	}
	now := time.Now()
	sess := &api.Session{UserID: u.userID(acc.Localpart), DeviceID: deviceID, AccessToken: newToken(accessTokenPrefix)}
	lifetime := u.base.Cfg.Registration.AccessTokenLifetime
	var expiresTS int64
	if req.WantRefreshToken && lifetime > 0 {
		sess.RefreshToken = newToken(refreshTokenPrefix)
		sess.ExpiresInMs = lifetime.Milliseconds()
		expiresTS = now.Add(lifetime).UnixMilli()
	}
	err = u.db.CreateSession(ctx, storage.NewSession{
		Localpart: acc.Localpart, DeviceID: deviceID, DisplayName: req.DisplayName,
		IP: req.IP, UserAgent: req.UserAgent,
		AccessHash: hashToken(sess.AccessToken), ExpiresTS: expiresTS,
		RefreshHash: hashOrEmpty(sess.RefreshToken), Now: now.UnixMilli(),
	})
	if err != nil {
		return nil, err
	}
	u.tokens.invalidateDevice(acc.Localpart, deviceID) // a reused device's old tokens
	return sess, nil
}

// Refresh implements api.UserAPI. A refresh always issues a new refresh
// token; the access token expires after the configured lifetime (never,
// if that has since been set to 0).
func (u *UserAPI) Refresh(ctx context.Context, refreshToken string) (*api.Session, error) {
	now := time.Now()
	sess := &api.Session{AccessToken: newToken(accessTokenPrefix), RefreshToken: newToken(refreshTokenPrefix)}
	var expiresTS int64
	if lifetime := u.base.Cfg.Registration.AccessTokenLifetime; lifetime > 0 {
		sess.ExpiresInMs = lifetime.Milliseconds()
		expiresTS = now.Add(lifetime).UnixMilli()
	}
	local, deviceID, err := u.db.Refresh(ctx, hashToken(refreshToken), hashToken(sess.AccessToken), expiresTS,
		hashToken(sess.RefreshToken), now.UnixMilli())
	if errors.Is(err, istorage.ErrNotFound) {
		return nil, api.ErrUnknownToken
	}
	if err != nil {
		return nil, err
	}
	u.tokens.invalidateDevice(local, deviceID) // the replaced access token
	sess.UserID, sess.DeviceID = u.userID(local), deviceID
	return sess, nil
}

func hashOrEmpty(token string) string {
	if token == "" {
		return ""
	}
	return hashToken(token)
}

// loginTokenPrefix marks login tokens (m.login.token).
const loginTokenPrefix = "axl_"

// CreateLoginToken implements api.UserAPI.
func (u *UserAPI) CreateLoginToken(ctx context.Context, userID matrixid.UserID) (*api.LoginToken, error) {
	acc, err := u.account(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	if acc.Deactivated {
		return nil, api.ErrUserDeactivated
	}
	now := time.Now()
	tok := &api.LoginToken{Token: newToken(loginTokenPrefix), ExpiresInMs: api.LoginTokenLifetime.Milliseconds()}
	if err := u.db.InsertLoginToken(ctx, hashToken(tok.Token), acc.Localpart, now.Add(api.LoginTokenLifetime).UnixMilli(), now.UnixMilli()); err != nil {
		return nil, err
	}
	return tok, nil
}

// TakeLoginToken implements api.UserAPI.
func (u *UserAPI) TakeLoginToken(ctx context.Context, token string) (matrixid.UserID, error) {
	local, err := u.db.TakeLoginToken(ctx, hashToken(token), time.Now().UnixMilli())
	if errors.Is(err, istorage.ErrNotFound) {
		return "", api.ErrInvalidLoginToken
	}
	if err != nil {
		return "", err
	}
	acc, err := u.account(ctx, u.userID(local))
	if err != nil {
		return "", err
	}
	if acc.Deactivated {
		return "", api.ErrUserDeactivated
	}
	return matrixid.UserID(u.userID(acc.Localpart)), nil
}
