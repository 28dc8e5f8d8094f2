// Package api is the userapi's public surface: the types and the Go
// interface other components call. It holds no logic.
package api

// Device is an authenticated session: who is calling, from which device.
type Device struct {
	UserID      string
	ID          string
	DisplayName string
	// SessionID identifies the access token row (for logout / revocation).
	SessionID int64
	IsAdmin   bool
	IsGuest   bool
	// AppserviceID is set when the caller is an application service.
	AppserviceID string
	// RateLimitExempt: an appservice user the registration exempts from
	// rate limits.
	RateLimitExempt bool
}
