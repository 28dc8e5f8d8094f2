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
// It reaches the userapi, the roomserver and federationapi through their
// api interfaces (so it works in a polylith). Registration tokens are
// stored by the userapi. Its one table (prefix adminapi_) maps each user to their server
// notices room. No streams in or out.
//
// Server notices (server_notices in the config): the notices user (created
// on first use) invites the user to a read-only room of their own, tagged
// m.server_notice for them, and sends the notice there; later notices go
// to the same room until the user leaves it.
//
// Files, by feature prefix: users_ (accounts, devices, whois, login as),
// rooms_ (room list, details, members, state), tokens_ (registration
// tokens), notices_ (server notices), federation_ (outbound destinations),
// server_ (server version), media_ (media administration, carried out by
// mediaapi through Deps.Media).
package adminapi
