package storage

import "github.com/axon-hs/axon/internal/storage"

// Migrations is the adminapi schema: each user's server notices room.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "server notice rooms",
	SQL: `
CREATE TABLE adminapi_server_notice_rooms (
	user_id TEXT PRIMARY KEY,
	room_id TEXT NOT NULL
);
`,
}}
