// Package keyserver owns end-to-end encryption keys: device identity
// keys, one-time and fallback keys, cross-signing keys and signatures,
// server-side key backup, and each user's device list version. It
// implements api.KeyserverAPI and serves the Client-Server /keys/* and
// /room_keys/* routes (except GET /keys/changes, which syncapi serves
// because it owns the /sync token positions it is asked about).
//
// Tables (keyserver/storage, prefix keyserver_): device_keys,
// one_time_keys, fallback_keys, cross_signing_keys, cross_signing_sigs,
// device_list_streams (per-user stream_id for federation),
// backup_versions, backup_keys.
//
// Streams out: device_list_updates (api.DeviceListUpdate) whenever a
// local user's device keys, cross-signing keys or signatures on them
// change, or a device with keys is deleted; syncapi turns it into
// device_lists in /sync, the federation sender into EDUs. Streams in:
// none. The userapi does not announce device deletions, so deleted
// devices are noticed when their keys are next queried (and callers that
// delete devices may call DeleteDeviceKeys directly).
//
// Users of other servers are asked through a Remote (set by
// federationapi with SetRemote); without one they are reported in
// `failures`.
package keyserver
