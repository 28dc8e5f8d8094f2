// Package federationapi is the Server-Server API: it talks to other
// homeservers on behalf of this one.
//
// It owns:
//   - the key endpoints (/_matrix/key/v2/server, /_matrix/key/v2/query
//     as a notary) and the key ring that verifies other servers'
//     signatures (package keys);
//   - X-Matrix request authentication on every inbound federation route
//     (auth.go) and signing of every outbound request (fclient with our
//     identity);
//   - server discovery and the outbound HTTPS transport (package
//     transport);
//   - the outbound sender: per-destination persistent queues with
//     backoff (package sender); several federationapi processes share
//     the destinations by partition (partition.go, docs/scaling.md);
//   - inbound transactions (PUT /send/{txnId}): answered once whichever
//     process a retry reaches (remembered in the database), server ACL, signature
//     and hash checks, then the roomserver; PDUs whose prev/auth events
//     are missing are completed through /get_missing_events, /event_auth
//     and /state_ids + /event (missing.go);
//   - the other inbound routes: make_/send_ join, leave and knock,
//     invite v2, /event, /state, /state_ids, /event_auth, /backfill,
//     /get_missing_events, /timestamp_to_event, /query/directory,
//     /query/profile, /publicRooms, /hierarchy (one space and its direct
//     children, inbound_hierarchy.go) (inbound_*.go; the table is routes.go). Room routes need the
//     origin in the room and allowed by m.room.server_acl; send_join and
//     send_leave also answer in the deprecated v1 shape; /get_missing_events
//     and /backfill redact what the origin may not see under history
//     visibility (inbound_visibility.go, rsapi.ServerHistoryVisible);
//   - OpenID: tokens issued for the CS /openid/request_token and checked
//     by the unsigned /openid/userinfo (openid.go); stored as hashes,
//     for an hour, so any process can check them;
//   - end-to-end encryption between servers: /user/devices,
//     /user/keys/query and /user/keys/claim for local users, answered from
//     the keyserver (inbound_userkeys.go); QueryRemoteKeys/ClaimRemoteKeys,
//     the keyserver.Remote it asks other servers' users' keys through
//     (keys_remote.go);
//   - acting on other servers for local users (perform_*.go, the
//     fedapi.FederationAPI interface in package api): remote join (import
//     of the send_join state as outliers, then the join with that state),
//     leave/invite rejection, knock (make_knock/send_knock, stored out of
//     band like a remote invite), invites countersigned by the invitee's
//     server, alias and profile lookups, backfill, other servers'
//     /hierarchy of a space (perform_hierarchy.go: via servers in turn,
//     10 s each, answers bounded to 4 MiB and checked).
//
// Streams in: room_events (roomserver/api.OutputEvent), consumed as
// "federationapi_room_events" to track joined servers per room and to
// queue locally-originated events for them; typing, receipts, presence,
// send_to_device (syncapi/api types, Origin = us) and device_list_updates
// (keyserver/api.DeviceListUpdate of local users) queued as EDUs for the
// servers concerned (edu_out.go; device lists become
// m.device_list_update, cross-signing changes m.signing_key_update).
// Streams out: inbound EDUs are published on typing, receipts, presence,
// send_to_device (Origin = the sending server) and device_list_updates
// (a DeviceListUpdate whose user is the sending server's, which is how
// consumers tell it from a local change) (edu_in.go). Inbound PDUs go through RoomserverAPI.InputRoomEvents.
//
// Tables (package storage): federationapi_server_keys,
// federationapi_key_responses, federationapi_queue,
// federationapi_destinations, federationapi_joined_servers,
// federationapi_positions, federationapi_dead_letters,
// federationapi_partitions (lease epochs), federationapi_inbound_txns,
// federationapi_openid_tokens.
package federationapi
