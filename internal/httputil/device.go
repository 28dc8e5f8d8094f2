package httputil

// Device is the authenticated caller of a request: who is calling, from
// which device. The userapi issues it (userapi/api.Device is this type);
// it lives here so the HTTP layer needs no component.
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
