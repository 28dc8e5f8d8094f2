package userapi

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// What the admin API's moderation asks of the userapi: shadow bans,
// per-user rate limits, and forgetting a purged room's account data.

// SetShadowBanned implements api.UserAPI.
func (u *UserAPI) SetShadowBanned(ctx context.Context, userID matrixid.UserID, banned bool) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	if err := u.db.SetShadowBanned(ctx, local, banned); err != nil {
		return notFound(err, string(userID))
	}
	// Cached tokens carry the flag.
	u.tokens.invalidateUserExcept(local, "")
	return nil
}

// QueryRateLimitOverride implements api.UserAPI.
func (u *UserAPI) QueryRateLimitOverride(ctx context.Context, userID matrixid.UserID) (*api.RateLimitOverride, error) {
	if _, err := u.account(ctx, string(userID)); err != nil {
		return nil, err
	}
	local, err := u.localpart(string(userID))
	if err != nil {
		return nil, err
	}
	o, err := u.db.RateLimitOverride(ctx, local)
	if err != nil || o == nil {
		return nil, err
	}
	return &api.RateLimitOverride{MessagesPerSecond: o.MessagesPerSecond, BurstCount: o.BurstCount}, nil
}

// SetRateLimitOverride implements api.UserAPI.
func (u *UserAPI) SetRateLimitOverride(ctx context.Context, userID matrixid.UserID, o *api.RateLimitOverride) error {
	if _, err := u.account(ctx, string(userID)); err != nil {
		return err
	}
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	var row *storage.RateLimitOverride
	if o != nil {
		row = &storage.RateLimitOverride{MessagesPerSecond: o.MessagesPerSecond, BurstCount: o.BurstCount}
	}
	if err := u.db.SetRateLimitOverride(ctx, local, row); err != nil {
		return err
	}
	u.tokens.invalidateUserExcept(local, "")
	return nil
}

// DeleteRoomAccountData implements api.UserAPI.
func (u *UserAPI) DeleteRoomAccountData(ctx context.Context, roomID matrixid.RoomID) error {
	return u.db.DeleteRoomAccountData(ctx, string(roomID))
}
