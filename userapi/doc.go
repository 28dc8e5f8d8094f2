// Package userapi owns local users: accounts (bcrypt password hashes),
// devices, access and refresh tokens, profiles and account data. It
// implements api.UserAPI for the other components and
// httputil.Authenticator for the HTTP routers.
//
// Tables (userapi/storage): userapi_accounts, userapi_devices,
// userapi_access_tokens, userapi_refresh_tokens, userapi_login_tokens
// (m.login.token: single use, 2 minutes; tokens stored as SHA-256
// hashes), userapi_profile_fields, userapi_account_data, userapi_outbox.
//
// Streams out: account_data (api.OutputAccountData) whenever account data
// changes, and once when an account is deactivated with erase (Erased); user_devices (api.OutputDeviceChange) whenever devices are
// deleted (logout, DELETE /devices, password change with logout,
// deactivation), staged in userapi_outbox in the deletion's transaction
// and published after it (internal/outbox), so the keyserver hears of
// every deletion. Streams in: none.
//
// Access tokens are checked on every request, so resolved tokens are kept
// in an in-process cache, dropped on logout, device deletion, password
// change and deactivation, and re-read from the database after a few
// minutes (which bounds staleness if several processes serve the userapi).
// Device last-seen data is batched and written every few seconds rather
// than on each request.
package userapi
