package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface UserAPI

import (
	"context"
	"encoding/json"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// UserAPI is what other components may ask of the userapi. In a monolith
// it is the userapi itself; in a polylith, a NATS request/reply client, so
// every argument and result is plain data.
//
// User IDs are full Matrix IDs ("@alice:example.org"); methods given a
// user of another server return ErrNotFound. Errors that callers are
// expected to branch on are the Err* values below (test with errors.Is).
type UserAPI interface {
	// QueryAccessToken resolves an access token to its device, recording
	// the caller's ip and user agent as last seen. ErrUnknownToken,
	// ErrTokenExpired (the device still exists: soft logout).
	QueryAccessToken(ctx context.Context, token, ip, userAgent string) (*Device, error)

	// CreateAccount registers localpart with password (bcrypt-hashed) and
	// its display name set to the localpart. ErrInvalidUsername,
	// ErrUserInUse. It does not log in: see Login.
	CreateAccount(ctx context.Context, localpart, password string, admin bool) (userID matrixid.UserID, err error)
	// CreateGuestAccount registers a guest with a numeric localpart and no
	// password.
	CreateGuestAccount(ctx context.Context) (userID matrixid.UserID, err error)
	// CheckLocalpart says whether localpart could be registered now: nil,
	// ErrInvalidUsername or ErrUserInUse.
	CheckLocalpart(ctx context.Context, localpart string) error
	// QueryAccount returns the account (deactivated ones too), or
	// ErrNotFound.
	QueryAccount(ctx context.Context, userID matrixid.UserID) (*Account, error)
	// CheckPassword verifies a password: nil, ErrInvalidPassword (also
	// for unknown users, taking the same time) or ErrUserDeactivated.
	CheckPassword(ctx context.Context, userID matrixid.UserID, password string) error
	// SetPassword changes the password. If logoutOtherDevices, every
	// device but keepDeviceID is deleted with its tokens.
	SetPassword(ctx context.Context, userID matrixid.UserID, password string, logoutOtherDevices bool, keepDeviceID string) error
	// DeactivateAccount marks the account deactivated (its name stays
	// taken), deletes every device and token and clears the profile.
	// With erase the account is also marked erased, for good, and an
	// OutputAccountData with Erased is published: syncapi then serves the
	// user's past messages redacted.
	DeactivateAccount(ctx context.Context, userID matrixid.UserID, erase bool) error

	// Login opens a session for an already-authenticated user: creates
	// (or reuses) the device and issues an access token, plus a refresh
	// token when asked for and access tokens are configured to expire.
	// Reusing a device revokes its earlier tokens.
	Login(ctx context.Context, req LoginRequest) (*Session, error)
	// CreateLoginToken issues a single-use token with which another
	// client logs in as userID (m.login.token), valid for
	// LoginTokenLifetime. ErrUserDeactivated, ErrNotFound.
	CreateLoginToken(ctx context.Context, userID matrixid.UserID) (*LoginToken, error)
	// TakeLoginToken spends a login token and returns the user it logs
	// in as; ErrInvalidLoginToken if it is unknown, spent or expired,
	// ErrUserDeactivated if its user has been deactivated since.
	TakeLoginToken(ctx context.Context, token string) (matrixid.UserID, error)
	// Refresh exchanges a refresh token for a new access and refresh
	// token (spec /refresh). ErrUnknownToken if it is unknown or spent.
	Refresh(ctx context.Context, refreshToken string) (*Session, error)

	// QueryDevices lists the user's devices (last-seen data may lag by
	// a few seconds behind requests).
	QueryDevices(ctx context.Context, userID matrixid.UserID) ([]DeviceInfo, error)
	// QueryDevice returns one device or ErrNotFound.
	QueryDevice(ctx context.Context, userID matrixid.UserID, deviceID string) (*DeviceInfo, error)
	// SetDeviceDisplayName renames a device; ErrNotFound if it does not
	// exist.
	SetDeviceDisplayName(ctx context.Context, userID matrixid.UserID, deviceID, displayName string) error
	// DeleteDevices deletes devices and revokes their tokens (logout).
	// Unknown device IDs are ignored.
	DeleteDevices(ctx context.Context, userID matrixid.UserID, deviceIDs []string) error
	// DeleteAllDevices deletes every device except exceptDeviceID (which
	// may be empty) and revokes their tokens (logout/all).
	DeleteAllDevices(ctx context.Context, userID matrixid.UserID, exceptDeviceID string) error

	// QueryProfile returns a local user's display name and avatar URL
	// ("" when unset), or ErrNotFound if there is no such user.
	QueryProfile(ctx context.Context, userID matrixid.UserID) (displayName, avatarURL string, err error)
	// QueryProfileFields returns every profile field (displayname,
	// avatar_url, m.tz, custom keys) as raw JSON values, or ErrNotFound.
	QueryProfileFields(ctx context.Context, userID matrixid.UserID) (map[string]json.RawMessage, error)
	// SetProfileField sets one profile field to a JSON value; a nil value
	// deletes it. ErrProfileTooLarge if the profile would exceed 64 KiB.
	SetProfileField(ctx context.Context, userID matrixid.UserID, field string, value json.RawMessage) error

	// AccountData returns the content of one item of account data
	// (global when roomID is ""), or nil when it is not set.
	AccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string) (json.RawMessage, error)
	// SetAccountData stores content (a JSON object) and publishes an
	// OutputAccountData on the account_data stream before returning.
	SetAccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string, content json.RawMessage) error
	// AllAccountData returns all of a user's account data.
	AllAccountData(ctx context.Context, userID matrixid.UserID) (*AccountDataSet, error)
	// SetRoomTag sets (content: a JSON object) or, with nil content,
	// removes one tag in the user's m.tag account data for roomID, and
	// publishes the new m.tag as SetAccountData does. ErrTooManyTags when
	// the room would have more than MaxRoomTags.
	SetRoomTag(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, tag string, content json.RawMessage) error

	// Server administration (the admin API).

	// QueryAccounts pages through local accounts.
	QueryAccounts(ctx context.Context, q AccountsQuery) (*AccountsPage, error)
	// SetAdmin grants or revokes server admin; ErrNotFound.
	SetAdmin(ctx context.Context, userID string, admin bool) error
	// ReactivateAccount lets a deactivated account log in again with a
	// new password; ErrNotFound.
	ReactivateAccount(ctx context.Context, userID, password string) error

	// Registration tokens (m.login.registration_token). ErrNotFound,
	// ErrTokenExists.
	RegistrationTokens(ctx context.Context) ([]RegistrationToken, error)
	RegistrationToken(ctx context.Context, token string) (*RegistrationToken, error)
	CreateRegistrationToken(ctx context.Context, t RegistrationToken) (*RegistrationToken, error)
	UpdateRegistrationToken(ctx context.Context, token string, u RegistrationTokenUpdate) (*RegistrationToken, error)
	DeleteRegistrationToken(ctx context.Context, token string) error
	// CheckRegistrationToken says whether a token may be used now.
	CheckRegistrationToken(ctx context.Context, token string) (bool, error)
	// UseRegistrationToken counts one use of a token if it is valid
	// (atomically: concurrent registrations cannot overspend it).
	UseRegistrationToken(ctx context.Context, token string) (bool, error)

	// SetShadowBanned sets or clears a local user's shadow ban;
	// ErrNotFound.
	SetShadowBanned(ctx context.Context, userID matrixid.UserID, banned bool) error
	// QueryRateLimitOverride is the user's own message rate limit, or
	// nil when the server's applies.
	QueryRateLimitOverride(ctx context.Context, userID matrixid.UserID) (*RateLimitOverride, error)
	// SetRateLimitOverride stores the user's own message rate limit, or
	// with nil removes it; ErrNotFound.
	SetRateLimitOverride(ctx context.Context, userID matrixid.UserID, o *RateLimitOverride) error
	// DeleteRoomAccountData deletes every user's account data (tags
	// included) of a purged room.
	DeleteRoomAccountData(ctx context.Context, roomID matrixid.RoomID) error

	// SearchUsers finds local accounts (not deactivated, not guests) by
	// localpart prefix or a display-name word prefix (the user directory
	// with search_all_users), at most limit.
	SearchUsers(ctx context.Context, term string, limit int) ([]DirectoryUser, error)
}

// DirectoryUser is one user directory result.
type DirectoryUser struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

// RateLimitOverride is the admin API's per-user message rate limit
// (Synapse's override_ratelimit); 0 messages per second is no limit.
type RateLimitOverride = httputil.RateOverride

// MaxRoomTags bounds the tags of one room.
const MaxRoomTags = 100

// Account is a local user account.
type Account struct {
	UserID      string `json:"user_id"`
	Localpart   string `json:"localpart"`
	CreatedTS   int64  `json:"created_ts"` // ms since the epoch
	IsAdmin     bool   `json:"is_admin"`
	IsGuest     bool   `json:"is_guest"`
	Deactivated bool   `json:"deactivated"`
	// Erased: deactivated with erase (past messages are hidden).
	Erased bool `json:"erased,omitempty"`
	// ShadowBanned: the user's events and invites are dropped while
	// appearing to succeed (admin API).
	ShadowBanned bool `json:"shadow_banned,omitempty"`
}

// LoginRequest opens a session for UserID.
type LoginRequest struct {
	UserID string `json:"user_id"`
	// DeviceID to (re)use; empty generates one.
	DeviceID string `json:"device_id,omitempty"`
	// DisplayName for a new device (ignored for an existing one).
	DisplayName string `json:"display_name,omitempty"`
	// IP and UserAgent are recorded as the device's last seen.
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	// WantRefreshToken: the client supports refresh tokens.
	WantRefreshToken bool `json:"want_refresh_token,omitempty"`
}

// Session is what a login, registration or refresh hands the client.
type Session struct {
	UserID      string `json:"user_id"`
	DeviceID    string `json:"device_id"`
	AccessToken string `json:"access_token"`
	// RefreshToken and ExpiresInMs are set only for expiring tokens.
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresInMs  int64  `json:"expires_in_ms,omitempty"`
}

// LoginTokenLifetime is how long a login token may be used (the spec's
// recommended 2 minutes).
const LoginTokenLifetime = 2 * time.Minute

// LoginToken is a token from CreateLoginToken.
type LoginToken struct {
	Token       string `json:"login_token"`
	ExpiresInMs int64  `json:"expires_in_ms"`
}

// DeviceInfo is a device as /devices shows it.
type DeviceInfo struct {
	UserID            string `json:"user_id"`
	DeviceID          string `json:"device_id"`
	DisplayName       string `json:"display_name,omitempty"`
	LastSeenTS        int64  `json:"last_seen_ts,omitempty"`
	LastSeenIP        string `json:"last_seen_ip,omitempty"`
	LastSeenUserAgent string `json:"last_seen_user_agent,omitempty"`
}

// AccountDataSet is all of a user's account data.
type AccountDataSet struct {
	Global map[string]json.RawMessage `json:"global"`
	// Rooms maps room ID → type → content.
	Rooms map[string]map[string]json.RawMessage `json:"rooms"`
}

// AccountsQuery filters and pages QueryAccounts.
type AccountsQuery struct {
	From  int `json:"from"`
	Limit int `json:"limit"`
	// Name matches the localpart or display name (substring).
	Name        string `json:"name,omitempty"`
	Guests      bool   `json:"guests"`
	Deactivated bool   `json:"deactivated"`
	// Admins: nil any, else only admins / only non-admins.
	Admins *bool `json:"admins,omitempty"`
	// OrderBy: "name" (default), "creation_ts", "admin", "deactivated",
	// "is_guest", "displayname".
	OrderBy string `json:"order_by,omitempty"`
	Desc    bool   `json:"desc,omitempty"`
}

// AccountsPage is one page of QueryAccounts.
type AccountsPage struct {
	Accounts []AccountWithProfile `json:"accounts"`
	Total    int                  `json:"total"`
}

// AccountWithProfile is an account with its display name and avatar.
type AccountWithProfile struct {
	Account
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
}

// RegistrationToken is a registration token and its use counts.
type RegistrationToken struct {
	Token       string `json:"token"`
	UsesAllowed *int64 `json:"uses_allowed"`
	Pending     int64  `json:"pending"`
	Completed   int64  `json:"completed"`
	// ExpiryTime is in ms since the epoch; nil never expires.
	ExpiryTime *int64 `json:"expiry_time"`
}

// ValidAt says whether the token may be used at nowMs (uses left, not
// expired): the one statement of that rule.
func (t *RegistrationToken) ValidAt(nowMs int64) bool {
	return (t.UsesAllowed == nil || t.Pending+t.Completed < *t.UsesAllowed) && (t.ExpiryTime == nil || *t.ExpiryTime > nowMs)
}

// RegistrationTokenUpdate changes the fields whose Set* flag is true (a
// nil value removes that limit).
type RegistrationTokenUpdate struct {
	SetUsesAllowed bool   `json:"set_uses_allowed,omitempty"`
	UsesAllowed    *int64 `json:"uses_allowed,omitempty"`
	SetExpiryTime  bool   `json:"set_expiry_time,omitempty"`
	ExpiryTime     *int64 `json:"expiry_time,omitempty"`
}
