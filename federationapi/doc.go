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
//     backoff (package sender);
//   - inbound transactions (PUT /send/{txnId}) handed to the roomserver.
//
// Streams in: room_events (roomserver/api.OutputEvent), consumed as
// "federationapi_room_events" to track joined servers per room and to
// queue locally-originated events for them.
// Streams out: none (inbound PDUs go through RoomserverAPI.InputRoomEvents).
//
// Tables (package storage): federationapi_server_keys,
// federationapi_key_responses, federationapi_queue,
// federationapi_destinations, federationapi_joined_servers,
// federationapi_positions.
package federationapi
