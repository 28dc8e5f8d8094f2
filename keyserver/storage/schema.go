package storage

import (
	"github.com/axon-hs/axon/internal/outbox"
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/writer"
)

// OutboxTable holds device list updates committed but not yet published.
const OutboxTable = "keyserver_outbox"

// consumerTable holds the position in each consumed stream (user_devices).
const consumerTable = "keyserver_consumer_seqs"

// Migrations is the keyserver schema. Key objects are stored as the exact
// JSON the client uploaded (its signatures cover it).
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "device, one-time, fallback and cross-signing keys; key backup; device list streams",
	SQL: `
CREATE TABLE keyserver_device_keys (
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	key_json TEXT NOT NULL,
	ts BIGINT NOT NULL,
	PRIMARY KEY (user_id, device_id)
);
-- id orders claims: keys go out in the order they were uploaded.
CREATE TABLE keyserver_one_time_keys (
	id {{SERIAL}},
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	algorithm TEXT NOT NULL,
	key_id TEXT NOT NULL,
	key_json TEXT NOT NULL,
	UNIQUE (user_id, device_id, algorithm, key_id)
);
CREATE INDEX keyserver_one_time_keys_claim ON keyserver_one_time_keys (user_id, device_id, algorithm, id);
CREATE TABLE keyserver_fallback_keys (
	user_id TEXT NOT NULL,
	device_id TEXT NOT NULL,
	algorithm TEXT NOT NULL,
	key_id TEXT NOT NULL,
	key_json TEXT NOT NULL,
	used BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (user_id, device_id, algorithm)
);
-- key_type: master, self_signing, user_signing.
CREATE TABLE keyserver_cross_signing_keys (
	user_id TEXT NOT NULL,
	key_type TEXT NOT NULL,
	key_json TEXT NOT NULL,
	PRIMARY KEY (user_id, key_type)
);
-- A signature by origin's key on target's key (a device ID or a
-- cross-signing public key), merged into the key when served.
CREATE TABLE keyserver_cross_signing_sigs (
	origin_user_id TEXT NOT NULL,
	origin_key_id TEXT NOT NULL,
	target_user_id TEXT NOT NULL,
	target_key_id TEXT NOT NULL,
	signature TEXT NOT NULL,
	PRIMARY KEY (target_user_id, target_key_id, origin_user_id, origin_key_id)
);
-- Per-user device list version, bumped with every change to the user's
-- device or cross-signing keys (federation's stream_id).
CREATE TABLE keyserver_device_list_streams (
	user_id TEXT PRIMARY KEY,
	stream_id BIGINT NOT NULL
);
-- Deleted versions stay (deleted TRUE) so version numbers are never reused.
CREATE TABLE keyserver_backup_versions (
	user_id TEXT NOT NULL,
	version BIGINT NOT NULL,
	algorithm TEXT NOT NULL,
	auth_data TEXT NOT NULL,
	etag BIGINT NOT NULL DEFAULT 0,
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (user_id, version)
);
CREATE TABLE keyserver_backup_keys (
	user_id TEXT NOT NULL,
	version BIGINT NOT NULL,
	room_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	first_message_index BIGINT NOT NULL,
	forwarded_count BIGINT NOT NULL,
	is_verified BOOLEAN NOT NULL,
	session_data TEXT NOT NULL,
	PRIMARY KEY (user_id, version, room_id, session_id)
);
`,
}, {
	Version: 2,
	Name:    "outbox; consumed stream positions",
	SQL:     outbox.Schema(OutboxTable) + "\n" + streampos.Schema(consumerTable),
}, {
	Version: 3,
	Name:    "dead letters",
	SQL:     streampos.DeadLetterSchema(consumerTables.DeadLetters),
}, {
	// Each user's last backup version, taken with one upsert: MAX()+1
	// let concurrent creations collide.
	Version: 4,
	Name:    "backup version counters",
	SQL: `
CREATE TABLE keyserver_backup_version_counters (
	user_id TEXT PRIMARY KEY,
	last BIGINT NOT NULL
);
INSERT INTO keyserver_backup_version_counters (user_id, last)
	SELECT user_id, MAX(version) FROM keyserver_backup_versions GROUP BY user_id;
`,
}, {
	// Published rows are kept a while (outbox.DefaultRetain) to be
	// published again if the stream is lost with an external NATS store.
	Version: 5,
	Name:    "outbox retention",
	SQL:     outbox.RetainSchema(OutboxTable),
}, {
	// The writer lease's epoch, with several keyserver processes
	// (internal/writer).
	Version: 6,
	Name:    "writer epoch",
	SQL:     writer.Schema(WriterTable),
}}

// consumerTables add the messages the consumer gave up on.
var consumerTables = streampos.Tables{Positions: consumerTable, DeadLetters: "keyserver_dead_letters"}
