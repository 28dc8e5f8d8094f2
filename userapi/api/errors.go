package api

import (
	"errors"

	"github.com/axon-hs/axon/internal/rpc"
)

// Errors the UserAPI returns for conditions callers answer differently.
// They may be wrapped with detail; match with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrUserInUse       = errors.New("user ID already taken")
	ErrInvalidUsername = errors.New("invalid username")
	ErrInvalidPassword = errors.New("invalid username or password")
	ErrUserDeactivated = errors.New("user account has been deactivated")
	ErrUnknownToken    = errors.New("unknown or expired token")
	ErrTokenExpired    = errors.New("access token has expired")
	ErrProfileTooLarge = errors.New("profile would exceed 64 KiB")
	ErrTooManyTags     = errors.New("too many tags on this room")
	ErrTokenExists     = errors.New("registration token already exists")
	// ErrInvalidLoginToken: an m.login.token token that is unknown,
	// already used or expired.
	ErrInvalidLoginToken = errors.New("invalid or expired login token")
)

// The errors cross internal/rpc as themselves, so errors.Is works the
// same in a polylith.
func init() {
	for kind, err := range map[string]error{
		"userapi.not_found": ErrNotFound, "userapi.user_in_use": ErrUserInUse,
		"userapi.invalid_username": ErrInvalidUsername, "userapi.invalid_password": ErrInvalidPassword,
		"userapi.deactivated": ErrUserDeactivated, "userapi.unknown_token": ErrUnknownToken,
		"userapi.token_expired": ErrTokenExpired, "userapi.profile_too_large": ErrProfileTooLarge,
		"userapi.too_many_tags": ErrTooManyTags, "userapi.token_exists": ErrTokenExists,
		"userapi.invalid_login_token": ErrInvalidLoginToken,
	} {
		rpc.RegisterSentinel(kind, err)
	}
}

// IsRejectedCredentials reports whether a CheckPassword error means the
// password was refused (wrong, unknown user or deactivated account).
func IsRejectedCredentials(err error) bool {
	return errors.Is(err, ErrInvalidPassword) || errors.Is(err, ErrUserDeactivated)
}
