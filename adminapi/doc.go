// Package adminapi is the server administration API, on the paths of the
// Synapse admin API (/_synapse/admin/...) so existing tools (synapse-admin
// / Ketesa, scripts written for Synapse) work against Axon unchanged.
// docs/admin-api.md lists the endpoints that exist.
//
// Every route needs the access token of a server admin (an account with
// the admin flag: `axon create-account -admin`, or PUT
// /_synapse/admin/v1/users/{userId}/admin); anyone else gets 403
// M_FORBIDDEN.
//
// It owns no tables: it reaches the userapi and the roomserver through
// their api interfaces (so it works in a polylith), declared narrowly in
// deps.go. Registration tokens are stored by the userapi.
//
// Files, by feature prefix: users_ (accounts, devices, whois, login as),
// rooms_ (room list, details, members, state), tokens_ (registration
// tokens), server_ (server version).
package adminapi
