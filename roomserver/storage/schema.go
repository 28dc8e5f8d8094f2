// Package storage holds the roomserver's tables. One implementation serves
// SQLite and PostgreSQL (see internal/storage).
//
// State is stored as snapshots: a snapshot row names a parent snapshot and
// the entries that differ from it (a delta), so a new state event costs one
// snapshot row plus one entry row however big the room is. Every so often
// (when a chain grows long relative to the state size) a full snapshot is
// written instead, bounding the work to read one back. Non-state events
// create no snapshot at all: they point at the snapshot current when they
// were sent.
package storage

import (
	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/storage"
)

// Migrations is the roomserver schema.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "initial",
	SQL: `
CREATE TABLE roomserver_rooms (
	room_nid {{SERIAL}},
	room_id TEXT NOT NULL UNIQUE,
	room_version TEXT NOT NULL,
	-- current state snapshot, DAG tips (JSON list) and max depth
	snapshot_nid BIGINT NOT NULL DEFAULT 0,
	extremities TEXT NOT NULL DEFAULT '[]',
	depth BIGINT NOT NULL DEFAULT 0,
	published BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE roomserver_events (
	event_nid {{SERIAL}},
	room_nid BIGINT NOT NULL,
	event_id TEXT NOT NULL UNIQUE,
	event_type TEXT NOT NULL,
	state_key TEXT,
	depth BIGINT NOT NULL,
	origin_server_ts BIGINT NOT NULL,
	-- state before the event (0 for outliers)
	snapshot_nid BIGINT NOT NULL DEFAULT 0,
	-- 0 accepted, 1 soft-failed, 2 rejected, 3 outlier
	status INTEGER NOT NULL DEFAULT 0,
	redacted_by TEXT NOT NULL DEFAULT '',
	event_json TEXT NOT NULL
);
CREATE INDEX roomserver_events_room_ts ON roomserver_events (room_nid, origin_server_ts);
CREATE TABLE roomserver_state_snapshots (
	snapshot_nid {{SERIAL}},
	room_nid BIGINT NOT NULL,
	-- 0 for a full snapshot; otherwise entries are a delta on the parent
	parent_nid BIGINT NOT NULL DEFAULT 0,
	chain_len INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE roomserver_state_entries (
	snapshot_nid BIGINT NOT NULL,
	event_type TEXT NOT NULL,
	state_key TEXT NOT NULL,
	event_nid BIGINT NOT NULL,
	PRIMARY KEY (snapshot_nid, event_type, state_key)
);
CREATE TABLE roomserver_memberships (
	room_nid BIGINT NOT NULL,
	user_id TEXT NOT NULL,
	membership TEXT NOT NULL,
	event_nid BIGINT NOT NULL,
	forgotten BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (room_nid, user_id)
);
CREATE INDEX roomserver_memberships_user ON roomserver_memberships (user_id, membership);
CREATE TABLE roomserver_aliases (
	alias TEXT PRIMARY KEY,
	room_id TEXT NOT NULL,
	creator TEXT NOT NULL
);
CREATE INDEX roomserver_aliases_room ON roomserver_aliases (room_id);
CREATE TABLE roomserver_txns (
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	txn_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (user_id, device_id, room_id, txn_id)
);
`,
}, {
	Version: 2,
	Name:    "output outbox",
	// Outputs are written here in the same transaction as their events and
	// deleted once the log has acknowledged them, so a log outage or a
	// crash between commit and publish loses nothing: leftovers are
	// published again on start.
	SQL: `CREATE TABLE roomserver_outbox (
	outbox_id {{SERIAL}},
	room_id TEXT NOT NULL,
	output_json TEXT NOT NULL
)`,
}, {
	Version: 3,
	Name:    "outbox on the shared internal/outbox layout",
	SQL:     `ALTER TABLE roomserver_outbox RENAME COLUMN room_id TO msg_key`,
}, {
	Version: 4,
	Name:    "appservice network directories",
	// Rooms an appservice lists in its published directory for one of its
	// networks (third_party_instance_id "<appservice id>|<network id>").
	SQL: `CREATE TABLE roomserver_network_rooms (
	appservice_id TEXT NOT NULL,
	network_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	PRIMARY KEY (appservice_id, network_id, room_id)
)`,
}, {
	// Published outputs are kept a minute, to publish them again if an
	// external NATS loses the stream (internal/outbox, Config.Retain).
	Version: 5,
	Name:    "outbox retention",
	SQL:     outbox.RetainSchema("roomserver_outbox"),
}, {
	// Rooms the server admin blocked (admin API): no local user may
	// join, be invited or knock, and other servers' joins, invites and
	// knocks are refused. A row outlives a purge of the room.
	Version: 6,
	Name:    "blocked rooms",
	SQL: `CREATE TABLE roomserver_blocked_rooms (
	room_id TEXT PRIMARY KEY,
	blocked_by TEXT NOT NULL,
	ts BIGINT NOT NULL
)`,
}, {
	// Fencing for partitioned roomservers (roomserver/partition.go): the
	// newest lease epoch seen per partition. A write checks its epoch
	// here in its own transaction; taking a partition raises it.
	Version: 7,
	Name:    "partition lease epochs",
	SQL: `CREATE TABLE roomserver_partitions (
	partition_id INTEGER PRIMARY KEY,
	lease_gen BIGINT NOT NULL,
	lease_rev BIGINT NOT NULL,
	owner TEXT NOT NULL
)`,
}, {
	// Client transactions keyed transaction ID first. Clients that send
	// the most (bridges on mautrix, Element Web on matrix-js-sdk) begin
	// their transaction IDs with the time, so a group commit's claims
	// land on the last few pages of the key instead of one page per
	// sender (keyed by user first, a commit of 15 events into one room
	// wrote ~30 pages of this index, the most of any b-tree). On SQLite
	// the row lives in its key (no rowid table beside it).
	Version:  8,
	Name:     "client transactions keyed by transaction ID first",
	SQL:      txnsByTxnID(` WITHOUT ROWID`),
	Postgres: txnsByTxnID(``),
}, {
	// Room outputs are marked published (retain.go) a moment after they
	// are written: with pages half free that UPDATE stays on the row's
	// page (a HOT update) on PostgreSQL. Nothing to do on SQLite.
	Version:  9,
	Name:     "outbox pages left half free for marking rows published",
	SQL:      ``,
	Postgres: outbox.RetainFillfactor("roomserver_outbox"),
}}

// txnsByTxnID rebuilds roomserver_txns with its key in the new order.
func txnsByTxnID(tableOptions string) string {
	return `CREATE TABLE roomserver_txns_new (
	txn_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	room_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (txn_id, user_id, device_id, room_id)
)` + tableOptions + `;
INSERT INTO roomserver_txns_new (txn_id, user_id, device_id, room_id, event_id)
	SELECT txn_id, user_id, device_id, room_id, event_id FROM roomserver_txns;
DROP TABLE roomserver_txns;
ALTER TABLE roomserver_txns_new RENAME TO roomserver_txns;`
}
