package storage

import "github.com/axon-hs/axon/internal/storage"

// Migrations is the reports schema. A report names a room (room_id), an
// event in it (room_id and event_id) or a user (user_id); empty strings
// for what it does not name. score is NULL when not given.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "reports",
	SQL: `
CREATE TABLE reports_reports (
	id {{SERIAL}},
	reporter TEXT NOT NULL,
	room_id TEXT NOT NULL DEFAULT '',
	event_id TEXT NOT NULL DEFAULT '',
	user_id TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	score BIGINT,
	ts BIGINT NOT NULL
);
CREATE INDEX reports_reports_ts ON reports_reports (ts);
`,
}}
