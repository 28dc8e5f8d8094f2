// Package appservice connects application services (bridges, bots) to
// the server, per the Application Service API.
//
// It owns:
//   - pushing: consumers of room_events (and typing, receipts, presence,
//     send_to_device and device_list_updates when a registration asks for
//     ephemeral data, to-device messages or MSC3202) select what each appservice is interested in
//     (its users as sender or membership target, rooms and aliases in its
//     namespaces, rooms where one of its users is joined) and queue it
//     durably per appservice, in the same transaction as the stream
//     position. One sender goroutine per appservice PUTs
//     /_matrix/app/v1/transactions/{txnId} with the hs_token, one
//     transaction at a time, retrying the same txnId and items with
//     exponential backoff (1 s doubling to 5 min; a successful ping
//     retries at once) until acknowledged.
//   - queries: GET /_matrix/app/v1/users/{userId} and /rooms/{alias} when
//     clients look up unknown users and aliases in a namespace (api).
//   - Client-Server routes for appservices (routes.go): ping and the
//     third-party lookups, served over api.AppserviceAPI so they work in
//     any process.
//   - as_token authentication with user_id / device_id masquerading
//     (Authenticator, wrapped around the userapi's by the assembly).
//
// Registrations are loaded and validated by internal/config
// (app_services). Exclusive namespaces on /register and aliases are
// enforced by clientapi with the same registrations.
//
// Files: consumer_* (streams → queue), interest.go (who wants what),
// txn_* (pushing transactions), query_*, ping*, thirdparty*, directory_*
// (features; *_routes.go their HTTP handlers, listed in routes.go),
// auth.go (as_token), client.go (HTTP to appservices), errors.go.
//
// Several appservice processes (partitioning.instance; docs/scaling.md)
// all serve the appservice API; the consumers and senders run in the one
// holding the writer lease (internal/writer), and starting a transaction
// is fenced by its epoch.
//
// Tables (storage/): appservice_queue, appservice_txn_ids,
// appservice_consumer_seqs, appservice_writer.
package appservice
