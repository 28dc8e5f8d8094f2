package userapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// CreateAccount implements api.UserAPI (also used by `axon create-account`).
func (u *UserAPI) CreateAccount(ctx context.Context, localpart, password string, admin bool) (matrixid.UserID, error) {
	if err := u.validateLocalpart(localpart, false); err != nil {
		return "", err
	}
	// Hash before the write transaction: bcrypt is slow and the SQLite
	// writer is shared.
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return "", err
	}
	err = u.db.CreateAccount(ctx, storage.Account{
		Localpart: localpart, PasswordHash: hash, CreatedTS: nowMs(), IsAdmin: admin,
	}, localpart)
	if errors.Is(err, storage.ErrExists) {
		return "", fmt.Errorf("%w: %s", api.ErrUserInUse, u.userID(localpart))
	}
	if err != nil {
		return "", err
	}
	return matrixid.UserID(u.userID(localpart)), nil
}

// CreateGuestAccount implements api.UserAPI.
func (u *UserAPI) CreateGuestAccount(ctx context.Context) (matrixid.UserID, error) {
	for range 5 {
		n, err := rand.Int(rand.Reader, big.NewInt(1e12))
		if err != nil {
			return "", err
		}
		localpart := n.String()
		err = u.db.CreateAccount(ctx, storage.Account{Localpart: localpart, CreatedTS: nowMs(), IsGuest: true}, "")
		if errors.Is(err, storage.ErrExists) {
			continue
		}
		if err != nil {
			return "", err
		}
		return matrixid.UserID(u.userID(localpart)), nil
	}
	return "", errors.New("could not find a free guest user ID")
}

// CheckLocalpart implements api.UserAPI.
func (u *UserAPI) CheckLocalpart(ctx context.Context, localpart string) error {
	if err := u.validateLocalpart(localpart, false); err != nil {
		return err
	}
	_, err := u.db.Account(ctx, localpart)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s", api.ErrUserInUse, u.userID(localpart))
	case errors.Is(err, istorage.ErrNotFound):
		return nil
	default:
		return err
	}
}

// QueryAccount implements api.UserAPI.
func (u *UserAPI) QueryAccount(ctx context.Context, userID matrixid.UserID) (*api.Account, error) {
	acc, err := u.account(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	return &api.Account{
		UserID: u.userID(acc.Localpart), Localpart: acc.Localpart, CreatedTS: acc.CreatedTS,
		IsAdmin: acc.IsAdmin, IsGuest: acc.IsGuest, Deactivated: acc.Deactivated, Erased: acc.Erased, ShadowBanned: acc.ShadowBanned,
	}, nil
}

// CheckPassword implements api.UserAPI.
func (u *UserAPI) CheckPassword(ctx context.Context, userID matrixid.UserID, password string) error {
	acc, err := u.account(ctx, string(userID))
	if errors.Is(err, api.ErrNotFound) {
		if _, err := passwordMatches(ctx, "", password); err != nil { // same time as a real check
			return err
		}
		return api.ErrInvalidPassword
	}
	if err != nil {
		return err
	}
	if acc.Deactivated {
		return api.ErrUserDeactivated
	}
	ok, err := passwordMatches(ctx, acc.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		return api.ErrInvalidPassword
	}
	return nil
}

// SetPassword implements api.UserAPI.
func (u *UserAPI) SetPassword(ctx context.Context, userID matrixid.UserID, password string, logoutOtherDevices bool, keepDeviceID string) error {
	acc, err := u.account(ctx, string(userID))
	if err != nil {
		return err
	}
	if acc.Deactivated {
		return api.ErrUserDeactivated
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return err
	}
	d := u.deletion(ctx, acc.Localpart)
	if err := u.db.SetPasswordHash(ctx, acc.Localpart, hash, logoutOtherDevices, keepDeviceID, d.stage); err != nil {
		return err
	}
	if logoutOtherDevices {
		u.tokens.invalidateUserExcept(acc.Localpart, keepDeviceID)
	}
	d.send()
	return nil
}

// DeactivateAccount implements api.UserAPI. The erasure message goes on
// the account_data stream through its outbox, committed with the
// deactivation, so it reaches syncapi even if the log is down now.
func (u *UserAPI) DeactivateAccount(ctx context.Context, userID matrixid.UserID, erase bool) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	d := u.deletion(ctx, local)
	var onErased func(tx *istorage.Tx) error
	var erasure []outbox.Entry
	if erase {
		msg, err := json.Marshal(api.OutputAccountData{UserID: u.userID(local), Erased: true})
		if err != nil {
			return err
		}
		onErased = func(tx *istorage.Tx) error {
			var serr error
			erasure, serr = u.accountData.Stage(ctx, tx, u.userID(local), msg)
			return serr
		}
	}
	if err := u.db.Deactivate(ctx, local, d.stage, onErased); err != nil {
		if errors.Is(err, istorage.ErrNotFound) {
			return fmt.Errorf("%w: no user %s", api.ErrNotFound, userID)
		}
		return err
	}
	u.tokens.invalidateUserExcept(local, "")
	d.send()
	if erasure != nil {
		u.awaitPublished(ctx, local, u.accountData.Queue(erasure))
	}
	return nil
}
