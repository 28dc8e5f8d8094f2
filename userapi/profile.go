package userapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

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

// SearchUsers implements api.UserAPI.
func (u *UserAPI) SearchUsers(ctx context.Context, term string, limit int) ([]api.DirectoryUser, error) {
	ms, err := u.db.SearchProfiles(ctx, strings.ToLower(term), limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.DirectoryUser, 0, len(ms))
	for _, m := range ms {
		du := api.DirectoryUser{UserID: u.userID(m.Localpart)}
		_ = json.Unmarshal(m.DisplayName, &du.DisplayName) // non-strings read as unset
		_ = json.Unmarshal(m.AvatarURL, &du.AvatarURL)
		out = append(out, du)
	}
	return out, nil
}
