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
	// ShadowBanned (admin API): the user's sends, state, invites and room
	// creations appear to succeed but are dropped.
	ShadowBanned bool
	// RateLimit is the user's own message rate limit (admin API), or nil.
	RateLimit *RateOverride
}

// RateOverride is a per-user message rate limit: MessagesPerSecond
// events per second with bursts of BurstCount; 0 messages per second is
// no limit at all.
type RateOverride struct {
	MessagesPerSecond int64 `json:"messages_per_second"`
	BurstCount        int64 `json:"burst_count"`
}
