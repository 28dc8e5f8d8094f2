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
// It reaches the userapi, the roomserver, federationapi and the reports
// through their api interfaces (so it works in a polylith). Registration
// tokens, shadow bans and rate-limit overrides are stored by the userapi,
// room blocks by the roomserver, reports by the reports component. Its
// tables (prefix adminapi_): server_notice_rooms (each user's notices
// room), room_deletes (room deletion jobs, resumed on start until
// complete or failed). No streams in or out.
//
// Room deletion (rooms_delete.go): a stored job blocks the room if asked,
// makes every local member leave (moving them to a new room when asked),
// then asks the roomserver to purge, whose purge_room output makes syncapi
// and the federation sender delete their rows; the userapi deletes the
// room's account data. Close stops running jobs; they resume on start.
//
// Server notices (server_notices in the config): the notices user (created
// on first use) invites the user to a read-only room of their own, tagged
// m.server_notice for them, and sends the notice there; later notices go
// to the same room until the user leaves it.
//
// Files, by feature prefix: users_ (accounts, devices, whois, login as,
// shadow bans and rate limits in users_moderation.go), rooms_ (room list,
// details, members, state; rooms_block, rooms_delete, rooms_join for
// force-join and make_room_admin), reports_ (event reports), tokens_
// (registration tokens), notices_ (server notices), federation_ (outbound
// destinations), server_ (server version), media_ (media administration,
// carried out by mediaapi through Deps.Media).
package adminapi
