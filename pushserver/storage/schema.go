package storage

import (
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/writer"
)

// Migrations is the pushserver schema. A pusher is keyed by app, pushkey
// and user (several users may share a pushkey when they set append);
// delivered_pos is the syncapi notification position it has delivered up
// to, written after each delivery so a restart resumes after it.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "pushers",
	SQL: `
CREATE TABLE pushserver_pushers (
	app_id TEXT NOT NULL,
	pushkey TEXT NOT NULL,
	user_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	app_display_name TEXT NOT NULL,
	device_display_name TEXT NOT NULL,
	profile_tag TEXT NOT NULL DEFAULT '',
	lang TEXT NOT NULL,
	data TEXT NOT NULL,
	device_id TEXT NOT NULL DEFAULT '',
	pushkey_ts BIGINT NOT NULL,
	delivered_pos BIGINT NOT NULL,
	PRIMARY KEY (app_id, pushkey, user_id)
);
CREATE INDEX pushserver_pushers_user ON pushserver_pushers (user_id);
CREATE INDEX pushserver_pushers_device ON pushserver_pushers (user_id, device_id);
` + streampos.Schema("pushserver_consumer_seqs"),
}, {
	Version: 2,
	Name:    "dead letters",
	SQL:     streampos.DeadLetterSchema(consumerTables.DeadLetters),
}, {
	// The writer lease's epoch, with several pushserver processes
	// (internal/writer).
	Version: 3,
	Name:    "writer epoch",
	SQL:     writer.Schema(WriterTable),
}}

// consumerTables keep the consumed streams' positions and dead letters.
var consumerTables = streampos.Tables{Positions: "pushserver_consumer_seqs", DeadLetters: "pushserver_dead_letters"}
