package storage

import (
	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/storage"
)

// OutboxTable holds user_devices messages committed but not yet published.
const OutboxTable = "userapi_outbox"

// AccountDataOutboxTable holds account_data messages committed but not
// yet published.
const AccountDataOutboxTable = "userapi_account_data_outbox"

// Migrations is the userapi schema. Users are keyed by localpart: the
// userapi only stores local users. Tokens are stored as hex SHA-256
// hashes, never in the clear.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "accounts, devices, tokens, profiles, account data",
	SQL: `
CREATE TABLE userapi_accounts (
	localpart TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL DEFAULT '',
	created_ts BIGINT NOT NULL,
	is_admin BOOLEAN NOT NULL DEFAULT FALSE,
	is_guest BOOLEAN NOT NULL DEFAULT FALSE,
	deactivated BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE userapi_devices (
	localpart TEXT NOT NULL,
	device_id TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	created_ts BIGINT NOT NULL,
	last_seen_ts BIGINT NOT NULL DEFAULT 0,
	last_seen_ip TEXT NOT NULL DEFAULT '',
	last_seen_user_agent TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (localpart, device_id)
);
-- expires_ts 0: never expires. refresh_token_id: the refresh token issued
-- together with this access token (0: none).
CREATE TABLE userapi_access_tokens (
	id {{SERIAL}},
	token_hash TEXT NOT NULL UNIQUE,
	localpart TEXT NOT NULL,
	device_id TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	expires_ts BIGINT NOT NULL DEFAULT 0,
	refresh_token_id BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX userapi_access_tokens_device ON userapi_access_tokens (localpart, device_id);
CREATE INDEX userapi_access_tokens_refresh ON userapi_access_tokens (refresh_token_id);
-- prev_id: the refresh token this one replaced, kept valid until this one
-- (or its access token) is first used (spec /refresh).
CREATE TABLE userapi_refresh_tokens (
	id {{SERIAL}},
	token_hash TEXT NOT NULL UNIQUE,
	localpart TEXT NOT NULL,
	device_id TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	prev_id BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX userapi_refresh_tokens_device ON userapi_refresh_tokens (localpart, device_id);
CREATE INDEX userapi_refresh_tokens_prev ON userapi_refresh_tokens (prev_id);
-- value is the field's JSON value.
CREATE TABLE userapi_profile_fields (
	localpart TEXT NOT NULL,
	field TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (localpart, field)
);
-- room_id '' holds global account data.
CREATE TABLE userapi_account_data (
	localpart TEXT NOT NULL,
	room_id TEXT NOT NULL,
	data_type TEXT NOT NULL,
	content TEXT NOT NULL,
	PRIMARY KEY (localpart, room_id, data_type)
);
`,
}, {
	Version: 2,
	Name:    "outbox",
	SQL:     outbox.Schema(OutboxTable),
}, {
	Version: 3,
	Name:    "account data outbox",
	SQL:     outbox.Schema(AccountDataOutboxTable),
}, {
	Version: 4,
	Name:    "registration tokens",
	// uses_allowed NULL: unlimited; expiry_ts NULL: never expires.
	// pending is kept for the admin API's shape; a use is counted in
	// completed when the token stage of a registration passes.
	SQL: `
CREATE TABLE userapi_registration_tokens (
	token TEXT PRIMARY KEY,
	uses_allowed BIGINT,
	pending BIGINT NOT NULL DEFAULT 0,
	completed BIGINT NOT NULL DEFAULT 0,
	expiry_ts BIGINT
);
`,
}, {
	// Published rows are kept a while (outbox.DefaultRetain) to be
	// published again if the stream is lost with an external NATS store.
	Version: 5,
	Name:    "outbox retention",
	SQL:     outbox.RetainSchema(OutboxTable) + ";\n" + outbox.RetainSchema(AccountDataOutboxTable),
}, {
	// Login tokens (m.login.token, POST /login/get_token): single-use,
	// short-lived, stored hashed like every other token.
	Version: 6,
	Name:    "login tokens",
	SQL: `
CREATE TABLE userapi_login_tokens (
	token_hash TEXT PRIMARY KEY,
	localpart TEXT NOT NULL,
	expires_ts BIGINT NOT NULL
);
CREATE INDEX userapi_login_tokens_localpart ON userapi_login_tokens (localpart);
CREATE INDEX userapi_login_tokens_expires ON userapi_login_tokens (expires_ts);
`,
}, {
	// erased: deactivated with erase; never cleared (syncapi has
	// redacted the user's messages by then).
	Version: 7,
	Name:    "erased accounts",
	SQL:     `ALTER TABLE userapi_accounts ADD COLUMN erased BOOLEAN NOT NULL DEFAULT FALSE`,
}, {
	// Admin API: shadow-banned users' events and invites appear to
	// succeed but are dropped; per-user overrides of the message rate
	// limit (0 = unlimited).
	Version: 8,
	Name:    "shadow ban and rate limit overrides",
	SQL: `ALTER TABLE userapi_accounts ADD COLUMN shadow_banned BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE userapi_ratelimit_overrides (
	localpart TEXT PRIMARY KEY,
	messages_per_second BIGINT NOT NULL,
	burst_count BIGINT NOT NULL
)`,
}}
