package storage

import (
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/streampos"
)

// Migrations is the syncapi schema. Every table is prefixed syncapi_.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "initial",
	SQL: `
CREATE TABLE syncapi_consumer_seqs (
	stream TEXT PRIMARY KEY,
	seq BIGINT NOT NULL
);
CREATE TABLE syncapi_counters (
	name TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);
CREATE TABLE syncapi_events (
	pos BIGINT PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	room_id TEXT NOT NULL,
	type TEXT NOT NULL,
	sender TEXT NOT NULL,
	state_key TEXT,
	origin_ts BIGINT NOT NULL,
	json TEXT NOT NULL,
	room_version TEXT NOT NULL DEFAULT '',
	txn_device TEXT NOT NULL DEFAULT '',
	txn_id TEXT NOT NULL DEFAULT '',
	history_visibility TEXT NOT NULL DEFAULT 'shared',
	membership TEXT NOT NULL DEFAULT '',
	relates_to TEXT NOT NULL DEFAULT '',
	rel_type TEXT NOT NULL DEFAULT '',
	thread_id TEXT NOT NULL DEFAULT '',
	contains_url BOOLEAN NOT NULL DEFAULT FALSE,
	redacted BOOLEAN NOT NULL DEFAULT FALSE,
	in_timeline BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX syncapi_events_room_pos ON syncapi_events (room_id, pos);
CREATE INDEX syncapi_events_relates ON syncapi_events (relates_to, rel_type, pos);
CREATE INDEX syncapi_events_thread ON syncapi_events (room_id, thread_id, pos);
CREATE TABLE syncapi_current_state (
	room_id TEXT NOT NULL,
	type TEXT NOT NULL,
	state_key TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_pos BIGINT NOT NULL,
	added_at BIGINT NOT NULL,
	membership TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (room_id, type, state_key)
);
CREATE INDEX syncapi_current_state_member ON syncapi_current_state (state_key, type, membership);
CREATE INDEX syncapi_current_state_added ON syncapi_current_state (room_id, added_at);
CREATE TABLE syncapi_memberships (
	user_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	pos BIGINT NOT NULL,
	membership TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (user_id, room_id, pos)
);
CREATE INDEX syncapi_memberships_user_pos ON syncapi_memberships (user_id, pos);
CREATE TABLE syncapi_account_data (
	user_id TEXT NOT NULL,
	room_id TEXT NOT NULL DEFAULT '',
	type TEXT NOT NULL,
	content TEXT NOT NULL,
	pos BIGINT NOT NULL,
	PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX syncapi_account_data_pos ON syncapi_account_data (user_id, pos);
CREATE TABLE syncapi_receipts (
	room_id TEXT NOT NULL,
	receipt_type TEXT NOT NULL,
	user_id TEXT NOT NULL,
	thread_id TEXT NOT NULL DEFAULT '',
	event_id TEXT NOT NULL,
	event_pos BIGINT NOT NULL,
	ts BIGINT NOT NULL,
	pos BIGINT NOT NULL,
	PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX syncapi_receipts_room_pos ON syncapi_receipts (room_id, pos);
CREATE TABLE syncapi_send_to_device (
	pos BIGINT PRIMARY KEY,
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	sender TEXT NOT NULL,
	type TEXT NOT NULL,
	content TEXT NOT NULL
);
CREATE INDEX syncapi_send_to_device_dev ON syncapi_send_to_device (user_id, device_id, pos);
CREATE TABLE syncapi_to_device_txns (
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	txn_id TEXT NOT NULL,
	ts BIGINT NOT NULL,
	PRIMARY KEY (user_id, device_id, txn_id)
);
CREATE TABLE syncapi_presence (
	user_id TEXT PRIMARY KEY,
	presence TEXT NOT NULL,
	status_msg TEXT,
	last_active_ts BIGINT NOT NULL,
	currently_active BOOLEAN NOT NULL DEFAULT FALSE,
	pos BIGINT NOT NULL
);
CREATE INDEX syncapi_presence_pos ON syncapi_presence (pos);
CREATE TABLE syncapi_filters (
	id {{SERIAL}},
	user_id TEXT NOT NULL,
	filter TEXT NOT NULL
);
CREATE INDEX syncapi_filters_user ON syncapi_filters (user_id, filter);
CREATE TABLE syncapi_notifications (
	id {{SERIAL}},
	user_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_pos BIGINT NOT NULL,
	thread_id TEXT NOT NULL DEFAULT '',
	highlight BOOLEAN NOT NULL,
	actions TEXT NOT NULL,
	ts BIGINT NOT NULL
);
CREATE INDEX syncapi_notifications_room ON syncapi_notifications (user_id, room_id, event_pos);
`,
}, {
	// Per event the push outcome most joined members share is stored once
	// (syncapi_notify_events); syncapi_notifications keeps only the members
	// whose outcome differs, notify = FALSE meaning "not for this user".
	Version: 2,
	Name:    "shared notifications",
	SQL: `
CREATE TABLE syncapi_notify_events (
	room_id TEXT NOT NULL,
	event_pos BIGINT NOT NULL,
	event_id TEXT NOT NULL,
	thread_id TEXT NOT NULL DEFAULT '',
	sender TEXT NOT NULL,
	highlight BOOLEAN NOT NULL,
	actions TEXT NOT NULL,
	ts BIGINT NOT NULL,
	PRIMARY KEY (room_id, event_pos)
);
CREATE INDEX syncapi_notify_events_ts ON syncapi_notify_events (ts);
ALTER TABLE syncapi_notifications ADD COLUMN notify BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX syncapi_notifications_user_pos ON syncapi_notifications (user_id, event_pos);
`,
}, {
	// The device list table was first applied as its own component
	// ("syncapi_devicelists"); IF NOT EXISTS lets databases that already
	// have it take this version unchanged.
	Version: 3,
	Name:    "device list changes",
	SQL: `
CREATE TABLE IF NOT EXISTS syncapi_device_list_changes (
	pos BIGINT PRIMARY KEY,
	user_id TEXT NOT NULL
);
`,
}, {
	// Full-text search over message bodies, room names and topics: one
	// row per searchable event (syncapi_search; the key says which field)
	// with the text in the engine's own index (SQLite FTS4, built into the
	// driver without build tags; PostgreSQL tsvector + GIN). Existing
	// events are indexed by the migration.
	Version: 4,
	Name:    "search",
	SQL: `
CREATE TABLE syncapi_search (
	pos BIGINT PRIMARY KEY,
	room_id TEXT NOT NULL,
	key TEXT NOT NULL
);
CREATE INDEX syncapi_search_room ON syncapi_search (room_id, pos);
CREATE VIRTUAL TABLE syncapi_search_fts USING fts4(body, tokenize=unicode61);
INSERT INTO syncapi_search (pos, room_id, key)
	SELECT pos, room_id, CASE type WHEN 'm.room.message' THEN 'content.body' WHEN 'm.room.name' THEN 'content.name' ELSE 'content.topic' END
	FROM syncapi_events WHERE NOT redacted AND json_type(json, '$.content.' || CASE type WHEN 'm.room.message' THEN 'body' WHEN 'm.room.name' THEN 'name' WHEN 'm.room.topic' THEN 'topic' ELSE 'none' END) = 'text';
INSERT INTO syncapi_search_fts (docid, body)
	SELECT s.pos, substr(json_extract(e.json, '$.' || s.key), 1, 16384) FROM syncapi_search s JOIN syncapi_events e ON e.pos = s.pos;
`,
	Postgres: `
CREATE TABLE syncapi_search (
	pos BIGINT PRIMARY KEY,
	room_id TEXT NOT NULL,
	key TEXT NOT NULL,
	vec TSVECTOR NOT NULL
);
CREATE INDEX syncapi_search_room ON syncapi_search (room_id, pos);
CREATE INDEX syncapi_search_vec ON syncapi_search USING GIN (vec);
INSERT INTO syncapi_search (pos, room_id, key, vec)
	SELECT pos, room_id, 'content.' || field, to_tsvector('simple', substr(json::jsonb -> 'content' ->> field, 1, 16384))
	FROM (SELECT pos, room_id, json, CASE type WHEN 'm.room.message' THEN 'body' WHEN 'm.room.name' THEN 'name' ELSE 'topic' END AS field
		FROM syncapi_events WHERE NOT redacted AND type IN ('m.room.message', 'm.room.name', 'm.room.topic')) e
	WHERE jsonb_typeof(json::jsonb -> 'content' -> field) = 'string';
`,
}, {
	// The user directory: each user's name and avatar from their latest
	// join event (display name changes are re-sent as member events), with
	// a lower-cased text to match words against; and which rooms are
	// public (join rule), whose members anyone may find. Filled from
	// current state for existing rooms.
	Version: 5,
	Name:    "user directory",
	SQL: `
CREATE TABLE syncapi_user_directory (
	user_id TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	avatar_url TEXT NOT NULL,
	search TEXT NOT NULL
);
CREATE TABLE syncapi_public_rooms (
	room_id TEXT PRIMARY KEY
);
INSERT INTO syncapi_user_directory (user_id, display_name, avatar_url, search)
	SELECT s.state_key, COALESCE(json_extract(e.json, '$.content.displayname'), ''), COALESCE(json_extract(e.json, '$.content.avatar_url'), ''),
		' ' || lower(COALESCE(json_extract(e.json, '$.content.displayname'), '')) || ' ' || lower(substr(s.state_key, 2, instr(s.state_key, ':') - 2)) || ' ' || lower(s.state_key)
	FROM syncapi_current_state s JOIN syncapi_events e ON e.event_id = s.event_id
	WHERE s.type = 'm.room.member' AND s.membership = 'join'
	ON CONFLICT (user_id) DO NOTHING;
INSERT INTO syncapi_public_rooms (room_id)
	SELECT s.room_id FROM syncapi_current_state s JOIN syncapi_events e ON e.event_id = s.event_id
	WHERE s.type = 'm.room.join_rules' AND s.state_key = '' AND json_extract(e.json, '$.content.join_rule') = 'public';
`,
	Postgres: `
CREATE TABLE syncapi_user_directory (
	user_id TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	avatar_url TEXT NOT NULL,
	search TEXT NOT NULL
);
CREATE TABLE syncapi_public_rooms (
	room_id TEXT PRIMARY KEY
);
INSERT INTO syncapi_user_directory (user_id, display_name, avatar_url, search)
	SELECT s.state_key, COALESCE(e.json::jsonb -> 'content' ->> 'displayname', ''), COALESCE(e.json::jsonb -> 'content' ->> 'avatar_url', ''),
		' ' || lower(COALESCE(e.json::jsonb -> 'content' ->> 'displayname', '')) || ' ' || lower(split_part(substr(s.state_key, 2), ':', 1)) || ' ' || lower(s.state_key)
	FROM syncapi_current_state s JOIN syncapi_events e ON e.event_id = s.event_id
	WHERE s.type = 'm.room.member' AND s.membership = 'join'
	ON CONFLICT (user_id) DO NOTHING;
INSERT INTO syncapi_public_rooms (room_id)
	SELECT s.room_id FROM syncapi_current_state s JOIN syncapi_events e ON e.event_id = s.event_id
	WHERE s.type = 'm.room.join_rules' AND s.state_key = '' AND e.json::jsonb -> 'content' ->> 'join_rule' = 'public';
`,
}, {
	Version: 6,
	Name:    "dead letters",
	SQL:     streampos.DeadLetterSchema(consumerTables.DeadLetters),
}, {
	Version: 7,
	Name:    "forgotten rooms",
	SQL: `
CREATE TABLE syncapi_forgotten (
	user_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (user_id, room_id)
);
`,
}, {
	// Users deactivated with erase: their messages are stored redacted,
	// also ones that arrive after the erasure (consumer_erasure.go).
	Version: 8,
	Name:    "erased users",
	SQL:     `CREATE TABLE syncapi_erased_users (user_id TEXT PRIMARY KEY)`,
}, {
	Version: 9,
	Name:    "writer epochs",
	SQL: `
CREATE TABLE syncapi_writer (
	id INTEGER PRIMARY KEY,
	lease_gen BIGINT NOT NULL,
	lease_rev BIGINT NOT NULL,
	owner TEXT NOT NULL
);
`,
}, {
	Version: 10,
	Name:    "history gaps",
	SQL:     `ALTER TABLE syncapi_events ADD COLUMN history_gap BOOLEAN NOT NULL DEFAULT FALSE`,
}, {
	// Sliding sync positions, shared by syncapi replicas so a connection
	// continues on any of them (sliding_shared.go).
	Version: 11,
	Name:    "sliding sync positions",
	SQL: `
CREATE TABLE syncapi_sliding_positions (
	conn_key TEXT NOT NULL,
	pos TEXT NOT NULL,
	seq BIGINT NOT NULL,
	token TEXT NOT NULL,
	rooms TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	PRIMARY KEY (conn_key, pos)
);
CREATE INDEX syncapi_sliding_positions_created ON syncapi_sliding_positions (created_ts);
`,
}, {
	// Most events relate to nothing and are in no thread, yet every one
	// was an entry in both indexes (a page written per event and room in
	// each commit). Only the queries for relations and threads use them,
	// and those name a relation or a thread (their WHERE says so).
	Version: 12,
	Name:    "partial relation and thread indexes",
	SQL: `
DROP INDEX syncapi_events_relates;
CREATE INDEX syncapi_events_relates ON syncapi_events (relates_to, rel_type, pos) WHERE relates_to <> '';
DROP INDEX syncapi_events_thread;
CREATE INDEX syncapi_events_thread ON syncapi_events (room_id, thread_id, pos) WHERE thread_id <> '';
`,
}, {
	// SQLite: the search row's room and key move into the full-text
	// table as stored, not indexed, columns (FTS4 notindexed; first, so
	// a long text's overflow pages are not read for them), keyed by the
	// event's pos as docid; matchinfo=fts3 drops the per-document sizes
	// nothing reads. A stored message was a row in five b-trees (search
	// row, its pos and room indexes, FTS content and sizes) beside its
	// commit's new segment; now in one. PostgreSQL keeps its table
	// (tsvector + GIN).
	Version: 13,
	Name:    "search rows in one full-text table",
	SQL: `
ALTER TABLE syncapi_search RENAME TO syncapi_search_old;
CREATE VIRTUAL TABLE syncapi_search USING fts4(room_id, key, body, notindexed=room_id, notindexed=key, matchinfo=fts3, tokenize=unicode61);
INSERT INTO syncapi_search (docid, body, room_id, key)
	SELECT f.docid, f.body, s.room_id, s.key FROM syncapi_search_fts f JOIN syncapi_search_old s ON s.pos = f.docid;
DROP TABLE syncapi_search_fts;
DROP TABLE syncapi_search_old;
`,
	Postgres: `SELECT 1`,
}, {
	// SQLite: syncapi_events keyed by pos as its rowid. "pos BIGINT
	// PRIMARY KEY" is not SQLite's rowid alias, so the table kept a
	// second b-tree on pos beside its rows (a page written per commit,
	// and a lookup by pos went through it). PostgreSQL is unchanged.
	Version: 14,
	Name:    "events keyed by pos as the SQLite rowid",
	SQL: `
CREATE TABLE syncapi_events_new (
	pos INTEGER PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	room_id TEXT NOT NULL,
	type TEXT NOT NULL,
	sender TEXT NOT NULL,
	state_key TEXT,
	origin_ts BIGINT NOT NULL,
	json TEXT NOT NULL,
	room_version TEXT NOT NULL DEFAULT '',
	txn_device TEXT NOT NULL DEFAULT '',
	txn_id TEXT NOT NULL DEFAULT '',
	history_visibility TEXT NOT NULL DEFAULT 'shared',
	membership TEXT NOT NULL DEFAULT '',
	relates_to TEXT NOT NULL DEFAULT '',
	rel_type TEXT NOT NULL DEFAULT '',
	thread_id TEXT NOT NULL DEFAULT '',
	contains_url BOOLEAN NOT NULL DEFAULT FALSE,
	redacted BOOLEAN NOT NULL DEFAULT FALSE,
	in_timeline BOOLEAN NOT NULL DEFAULT TRUE,
	history_gap BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO syncapi_events_new (pos, event_id, room_id, type, sender, state_key, origin_ts, json, room_version, txn_device, txn_id, history_visibility, membership, relates_to, rel_type, thread_id, contains_url, redacted, in_timeline, history_gap)
	SELECT pos, event_id, room_id, type, sender, state_key, origin_ts, json, room_version, txn_device, txn_id, history_visibility, membership, relates_to, rel_type, thread_id, contains_url, redacted, in_timeline, history_gap FROM syncapi_events;
DROP TABLE syncapi_events;
ALTER TABLE syncapi_events_new RENAME TO syncapi_events;
CREATE INDEX syncapi_events_room_pos ON syncapi_events (room_id, pos);
CREATE INDEX syncapi_events_relates ON syncapi_events (relates_to, rel_type, pos) WHERE relates_to <> '';
CREATE INDEX syncapi_events_thread ON syncapi_events (room_id, thread_id, pos) WHERE thread_id <> '';
`,
	Postgres: `SELECT 1`,
}}
