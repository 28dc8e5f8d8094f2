package storage

import "github.com/axon-hs/axon/internal/storage"

// Migrations is the adminapi schema: each user's server notices room,
// room deletions.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "server notice rooms",
	SQL: `
CREATE TABLE adminapi_server_notice_rooms (
	user_id TEXT PRIMARY KEY,
	room_id TEXT NOT NULL
);
`,
}, {
	// Room deletions (DELETE /_synapse/admin/v2/rooms/{roomId}): the
	// request, its progress and its result, so a deletion survives and
	// resumes after a restart. params and result are JSON.
	Version: 2,
	Name:    "room deletions",
	SQL: `
CREATE TABLE adminapi_room_deletes (
	delete_id TEXT PRIMARY KEY,
	room_id TEXT NOT NULL,
	requester TEXT NOT NULL,
	params TEXT NOT NULL,
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	updated_ts BIGINT NOT NULL
);
CREATE INDEX adminapi_room_deletes_room ON adminapi_room_deletes (room_id, created_ts);
`,
}}
