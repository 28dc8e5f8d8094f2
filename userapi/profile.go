package userapi

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// maxProfileBytes is the spec's limit on a whole profile.
const maxProfileBytes = 64 << 10

// QueryProfile implements api.UserAPI.
func (u *UserAPI) QueryProfile(ctx context.Context, userID matrixid.UserID) (displayName, avatarURL string, err error) {
	fields, err := u.QueryProfileFields(ctx, userID)
	if err != nil {
		return "", "", err
	}
	// Non-string values (not settable through the API) read as unset.
	_ = json.Unmarshal(fields["displayname"], &displayName)
	_ = json.Unmarshal(fields["avatar_url"], &avatarURL)
	return displayName, avatarURL, nil
}

// QueryProfileFields implements api.UserAPI.
func (u *UserAPI) QueryProfileFields(ctx context.Context, userID matrixid.UserID) (map[string]json.RawMessage, error) {
	acc, err := u.account(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	return u.db.ProfileFields(ctx, acc.Localpart)
}

// SetProfileField implements api.UserAPI.
func (u *UserAPI) SetProfileField(ctx context.Context, userID matrixid.UserID, field string, value json.RawMessage) error {
	acc, err := u.account(ctx, string(userID))
	if err != nil {
		return err
	}
	if acc.Deactivated {
		return api.ErrUserDeactivated
	}
	err = u.db.SetProfileField(ctx, acc.Localpart, field, value, maxProfileBytes)
	if errors.Is(err, storage.ErrTooLarge) {
		return api.ErrProfileTooLarge
	}
	return err
}
