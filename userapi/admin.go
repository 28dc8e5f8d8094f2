package userapi

import (
	"context"
	"errors"
	"fmt"

	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// What the admin API asks of the userapi: account listing, admin flag,
// reactivation.

// QueryAccounts implements api.UserAPI.
func (u *UserAPI) QueryAccounts(ctx context.Context, q api.AccountsQuery) (*api.AccountsPage, error) {
	rows, total, err := u.db.ListAccounts(ctx, storage.AccountFilter{
		NameContains: q.Name, Guests: q.Guests, Deactivated: q.Deactivated, Admins: q.Admins,
		OrderBy: q.OrderBy, Desc: q.Desc, From: max(0, q.From), Limit: min(max(1, q.Limit), 1000),
	})
	if err != nil {
		return nil, err
	}
	page := &api.AccountsPage{Total: total, Accounts: make([]api.AccountWithProfile, 0, len(rows))}
	for _, r := range rows {
		page.Accounts = append(page.Accounts, api.AccountWithProfile{Account: api.Account{
			UserID: u.userID(r.Localpart), Localpart: r.Localpart, CreatedTS: r.CreatedTS,
			IsAdmin: r.IsAdmin, IsGuest: r.IsGuest, Deactivated: r.Deactivated,
		}, DisplayName: r.DisplayName, AvatarURL: r.AvatarURL})
	}
	return page, nil
}

// SetAdmin implements api.UserAPI.
func (u *UserAPI) SetAdmin(ctx context.Context, userID string, admin bool) error {
	local, err := u.localpart(userID)
	if err != nil {
		return err
	}
	if err := u.db.SetAdmin(ctx, local, admin); err != nil {
		return notFound(err, userID)
	}
	// Cached tokens carry the admin flag.
	u.tokens.invalidateUserExcept(local, "")
	return nil
}

// ReactivateAccount implements api.UserAPI.
func (u *UserAPI) ReactivateAccount(ctx context.Context, userID, password string) error {
	local, err := u.localpart(userID)
	if err != nil {
		return err
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return notFound(u.db.Reactivate(ctx, local, hash), userID)
}

// notFound turns storage.ErrNotFound into api.ErrNotFound naming userID.
func notFound(err error, what string) error {
	if errors.Is(err, istorage.ErrNotFound) {
		return fmt.Errorf("%w: %s", api.ErrNotFound, what)
	}
	return err
}
