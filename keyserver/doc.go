// Package keyserver owns end-to-end encryption keys: device identity
// keys, one-time and fallback keys, cross-signing keys and signatures,
// server-side key backup, and each user's device list version. It
// implements api.KeyserverAPI and serves the Client-Server /keys/* and
// /room_keys/* routes (except GET /keys/changes, which syncapi serves
// because it owns the /sync token positions it is asked about). The
// routes go through the KeyserverAPI (RegisterRoutes), so a polylith
// process running the client API without the keyserver serves them over
// RPC.
//
// Tables (keyserver/storage, prefix keyserver_): device_keys,
// one_time_keys, fallback_keys, cross_signing_keys, cross_signing_sigs,
// device_list_streams (per-user stream_id for federation),
// backup_versions, backup_keys, outbox (updates committed but not yet
// published), consumer_seqs (position in each consumed stream), writer
// (the writer lease's epoch, several processes).
//
// Streams out: device_list_updates (api.DeviceListUpdate) whenever a
// local user's device keys, cross-signing keys or signatures on them
// change, or a device with keys is deleted; syncapi turns it into
// device_lists in /sync, the federation sender into EDUs. Updates are
// written to the outbox in the transaction of the change and published
// after it (internal/outbox), so a log outage delays them but loses none
// and does not fail the request.
//
// Streams in: user_devices (userapi/api.OutputDeviceChange): the keys of
// deleted devices are forgotten and the change announced, in one
// transaction with the consumed position. (A device deleted without a
// message, e.g. before this existed, is still noticed when its keys are
// next queried.)
//
// The cross-signing upload's user-interactive auth is internal/uia.
//
// Users of other servers are asked through a Remote (the federationapi,
// set by the assembly with SetRemote); without one they are reported in
// `failures`.
//
// Several keyserver processes (partitioning.instance; docs/scaling.md)
// all serve RPC and routes; the user_devices consumer runs in the one
// holding the writer lease (internal/writer, table keyserver_writer).
//
// Files: routes.go (the route table), errors.go (domain errors as Matrix
// errors), keys_*.go (upload, query, claim, cross-signing, remote users;
// keys_handlers.go the HTTP side), backup*.go (key backup),
// devicelists_*.go (the user_devices consumer, the outbox of updates).
package keyserver
