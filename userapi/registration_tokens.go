package userapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// Registration tokens live in the userapi's database; the config list
// (registration.tokens) seeds them on start as unlimited tokens.

func tokenToAPI(t *storage.RegistrationToken) *api.RegistrationToken {
	return &api.RegistrationToken{Token: t.Token, UsesAllowed: t.UsesAllowed, Pending: t.Pending, Completed: t.Completed, ExpiryTime: t.ExpiryTS}
}

// RegistrationTokens implements api.UserAPI.
func (u *UserAPI) RegistrationTokens(ctx context.Context) ([]api.RegistrationToken, error) {
	rows, err := u.db.RegistrationTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.RegistrationToken, 0, len(rows))
	for i := range rows {
		out = append(out, *tokenToAPI(&rows[i]))
	}
	return out, nil
}

// RegistrationToken implements api.UserAPI.
func (u *UserAPI) RegistrationToken(ctx context.Context, token string) (*api.RegistrationToken, error) {
	t, err := u.db.RegistrationToken(ctx, token)
	if err != nil {
		return nil, notFound(err, "registration token")
	}
	return tokenToAPI(t), nil
}

// CreateRegistrationToken implements api.UserAPI.
func (u *UserAPI) CreateRegistrationToken(ctx context.Context, t api.RegistrationToken) (*api.RegistrationToken, error) {
	err := u.db.CreateRegistrationToken(ctx, storage.RegistrationToken{Token: t.Token, UsesAllowed: t.UsesAllowed, ExpiryTS: t.ExpiryTime})
	if errors.Is(err, storage.ErrExists) {
		return nil, fmt.Errorf("%w: %s", api.ErrTokenExists, t.Token)
	}
	if err != nil {
		return nil, err
	}
	return u.RegistrationToken(ctx, t.Token)
}

// UpdateRegistrationToken implements api.UserAPI.
func (u *UserAPI) UpdateRegistrationToken(ctx context.Context, token string, up api.RegistrationTokenUpdate) (*api.RegistrationToken, error) {
	t, err := u.db.UpdateRegistrationToken(ctx, token, up.SetUsesAllowed, up.UsesAllowed, up.SetExpiryTime, up.ExpiryTime)
	if err != nil {
		return nil, notFound(err, "registration token")
	}
	return tokenToAPI(t), nil
}

// DeleteRegistrationToken implements api.UserAPI.
func (u *UserAPI) DeleteRegistrationToken(ctx context.Context, token string) error {
	return notFound(u.db.DeleteRegistrationToken(ctx, token), "registration token")
}

// CheckRegistrationToken implements api.UserAPI.
func (u *UserAPI) CheckRegistrationToken(ctx context.Context, token string) (bool, error) {
	t, err := u.db.RegistrationToken(ctx, token)
	if err != nil {
		if errors.Is(notFound(err, ""), api.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return tokenToAPI(t).ValidAt(nowMs()), nil
}

// UseRegistrationToken implements api.UserAPI.
func (u *UserAPI) UseRegistrationToken(ctx context.Context, token string) (bool, error) {
	return u.db.UseRegistrationToken(ctx, token, nowMs())
}
