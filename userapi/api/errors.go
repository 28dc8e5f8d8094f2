package api

import "errors"

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
)

// IsRejectedCredentials reports whether a CheckPassword error means the
// password was refused (wrong, unknown user or deactivated account).
func IsRejectedCredentials(err error) bool {
	return errors.Is(err, ErrInvalidPassword) || errors.Is(err, ErrUserDeactivated)
}
