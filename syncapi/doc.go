// Package syncapi serves what clients read: GET /sync (v3), simplified
// sliding sync (MSC4186), /messages, /context, /event, /relations, /threads,
// filters, typing, receipts, read markers, presence, to-device, push
// rules and /notifications.
//
// Streams in: room_events (roomserver/api.OutputEvent: new events,
// redactions, backfilled history) and account_data
// (userapi/api.OutputAccountData; erasures of deactivated users,
// consumer_erasure.go), applied by consumers that store the
// stream sequence in the same transaction as the effect and resume from
// it on start; room_events are applied up to 64 per transaction when
// queued (stream.ConsumeBatch; consumer_roomevents.go), each event's
// effects and wakeups run in order after the commit. Streams out: typing, receipts, presence, send_to_device
// (syncapi/api types) for the federation sender; syncapi applies local
// changes itself before publishing them. The same four streams are
// consumed for other servers' data, which the federation receiver
// publishes with Origin set to the sending server (consumer_ephemeral.go;
// messages with our own Origin are skipped): receipts, presence and
// to-device resume from stored positions, typing from the newest message.
//
// Positions: syncapi numbers every stream itself (syncapi_counters);
// a /sync token "s<pdu>_<account_data>_<receipt>_<typing>_<to_device>_<presence>_<device_list>"
// holds one per stream. Typing is in memory, numbered from the wall clock
// in ms so positions keep growing across restarts. /messages tokens are
// "t<pdu pos>" (a point between events); /sync tokens are accepted too.
//
// Backfill (messages_backfill.go): when /messages pages backwards past a room's
// oldest event (not its creation), syncapi asks the FederationAPI (a
// New argument) for earlier history; the roomserver outputs it as
// OutputTypeBackfill and it is stored at negative positions ordered by
// depth (types.BackfillPos), below live history and outside /sync ranges.
// A live event the roomserver placed on given state over prev events it
// lacks (OutputNewRoomEvent.HistoryGap) is stored with history_gap: a
// /sync timeline stops at it and is limited (the gap itself is not yet
// backfilled; docs/conformance.md).
//
// Long-polls wait on a per-user channel in notifier (closed when data for
// that user commits), never by polling. Requests first wait until the
// consumers have applied everything in the log (read-your-writes).
// Initial syncs are bounded (initialSlots) and share a per-room current
// state cache (state_cache.go).
//
// Tables (prefix syncapi_): consumer_seqs, counters, erased_users, events (client JSON
// per event, with visibility, relation and thread columns), current_state,
// memberships (history, for visibility and leave/join deltas),
// account_data, receipts, send_to_device, to_device_txns, presence,
// filters, forgotten (rooms a user forgot, by the membership event
// forgotten: initial syncs and /messages leave them out), notify_events (an event's push outcome shared by most joined
// members, stored once), notifications (per-user rows only where a
// member's outcome differs: a mention, a muted room, own rules; notify =
// FALSE suppresses the shared row for that user). Unread counts and
// /notifications join the shared rows with the user's membership history
// (joined just before the event, not the sender) at read time.
//
// Push rules live in m.push_rules account data written through the
// userapi; the spec defaults are merged in (pushrules package). Each
// user's rules are compiled once (push.go, replaced when the account data
// changes) and each event parsed once for all members; notifications are
// pruned hourly (30 days; 5,000 own rows per user; maintenance.go).
// A local user's first join to an upgraded room copies their rules for
// the predecessor room to it (push_upgrade.go, pushrules.CopyForUpgrade).
// The pushserver delivers them: syncapi serves it a user's notifications
// after a position and badge counts (push_source.go) and wakes it (the
// PushWaker given to New) after commits and read receipts.
//
// Search (search.go; storage/search.go): message bodies, room names and
// topics are indexed when stored (syncapi_search: a full-text table on
// SQLite) and leave the index when redacted; POST /search checks every
// candidate with memberView like /messages.
//
// User directory (userdir.go; storage/userdir.go): syncapi_user_directory
// holds each user's name and avatar from their latest join,
// syncapi_public_rooms the rooms with a public join rule; both follow
// current state changes.
//
// Ignored users (ignore.go): m.ignored_user_list is cached per user and
// applied by memberView.visible (every timeline read), to invites,
// to-device, /notifications and push outcomes.
//
// Presence (ephemeral_presence.go): a /sync without set_presence makes an offline
// user online; an in-memory tracker of syncs and activity (events sent,
// receipts, typing) turns online users unavailable after 5 minutes idle
// and offline 30 s after their last sync ends. Only state changes are
// written. unsigned.age is added when an event is served.
//
// Replicas (replicas.go; config partitioning.instance): several syncapi
// processes serve from the same tables; only the holder of the writer
// lease runs the stream consumers (fenced by the lease epoch), and every
// replica publishes its wakes on <prefix>.syncapi.wake for the others;
// sliding sync positions are also stored in syncapi_sliding_positions so
// a connection continues on any replica (sliding_shared.go;
// docs/scaling.md).
//
// Purged rooms (admin API room deletion): the roomserver's purge_room
// output deletes everything syncapi holds of the room in the consumer's
// transaction (storage/purge.go). A server admin reads any room's history
// through GET /_synapse/admin/v1/rooms/{roomId}/messages
// (messages_admin.go: /messages with every event visible, no backfill).
//
// Files are named by feature: routes.go (the route table), sync_ (GET
// /sync: request, build, response, catch-up, lazy members, filters),
// sliding_ (sliding sync), messages_ (/messages, /context, relations,
// threads, backfill, the admin messages), push_ (push outcomes, push rules, /notifications),
// ephemeral_ (typing, receipts, presence, to-device), e2ee_ (device lists,
// key counts), state_ (current state cache, history visibility),
// consumer_ (stream consumers); all SQL is in storage/.
package syncapi
