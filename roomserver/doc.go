// Package roomserver owns rooms: it is the only writer of room events and
// room state.
//
// Input: InputRoomEvents is the single write path, for local events (which
// it builds, signs and hashes) and federation PDUs (Kind New,
// Outlier, Backfill). Each room has a queue drained by one worker at a
// time; a worker takes every pending request of its room into one
// database transaction, so a room's events are strictly ordered (local
// sends never fork the DAG) while different rooms proceed in parallel.
// Events are checked for format and size (64 KiB), auth-checked with
// gomatrixserverlib against their auth events, the state before them and
// the current state (soft-fail), then stored with their state. A panic
// while a batch is processed (input_panic.go) rolls it back and fails
// only the input that panics (a batch of several is re-run one by one);
// the room and the process go on.
//
// Federation (input_import.go, query_template.go): a remote join arrives as the
// room's auth chain and state as outliers (the outlier create event of an
// unknown room creates it) and the join with HasState, whose given state
// replaces empty or stale current state; HasState also steps over DAG
// gaps. Events with unknown prev/auth events are not stored: their
// result names them (MissingPrevEvents/MissingAuthEvents) for the
// federation receiver to fetch. KindOutOfBand stores a membership of a
// room we are not in (remote invite, rejected invite) as an outlier with
// a memberships row and an output, making a stub room if needed.
// QueryEventTemplate serves make_join/leave/knock and outbound invites.
//
// Output: api.OutputEvent messages (new events with state deltas,
// redactions, backfilled history) are written to the outbox table in the
// same transaction as the events and published to the room_events stream
// in per-room order (internal/outbox); a sender is answered once its
// event is on the stream.
//
// Follow-up rule on outputs (output_guests.go): when m.room.guest_access
// stops being can_join, by a local user or over federation, this
// server's joined guests leave the room (GuestAccounts, the userapi,
// says who is a guest).
//
// State: snapshots of (type, state_key) → event, stored as deltas on a
// parent snapshot with periodic full snapshots (see storage). A message
// shares its room's current snapshot; a state event adds one delta row.
// Forks are merged with the room version's state resolution. Current
// state, parsed events and recent snapshots are cached in memory.
//
// Administration (admin.go): a blocked room (blocked_rooms, kept through
// a purge) refuses membership events that join, invite or knock, local
// ones and federation ones for local users, and event templates for
// them. PurgeRoom runs on the room's input worker: one transaction
// deletes the room's rows and stages OutputPurgeRoom, so every consumer
// deletes its own; input queued after it finds no room.
//
// Partitioned (partition.go, config partitioning.instance): several
// roomserver processes share the rooms by partition of the room ID,
// each the only writer of the partitions it leases (internal/lease);
// input is forwarded to the holder, and every input transaction checks
// the lease epoch recorded in roomserver_partitions (fencing). See
// docs/scaling.md.
//
// Tables (prefix roomserver_): rooms, events, state_snapshots,
// state_entries, memberships (current membership per user, for
// joined_rooms), aliases, txns (client transaction IDs, for idempotent
// sends that survive restarts), network_rooms, blocked_rooms, partitions
// (lease epochs, when partitioned).
//
// Files: input*.go (the write path: batch, auth, commit, redactions,
// imported federation state), query*.go (read-only RoomserverAPI methods,
// event templates, history visibility), output*.go (what goes to the
// room_events stream), room.go / events.go / cache.go / stateres.go (the
// in-memory room head, parsed events, caches, state resolution),
// directory.go (aliases and the room directory), admin.go (blocks and
// purges), partition.go (input by partition across processes).
package roomserver
