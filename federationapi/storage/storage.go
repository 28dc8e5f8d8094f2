// Package storage keeps the federation component's tables: remote signing
// keys (and the raw key responses a notary re-serves), the outbound queue,
// per-destination backoff state, the servers joined to each room and the
// component's stream positions. One implementation serves SQLite and
// PostgreSQL.
package storage

import (
	"context"
	"sync/atomic"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
)

// Component is the name the database is opened (and migrated) under.
const Component = "federationapi"

// Migrations is the federationapi schema.
var Migrations = []istorage.Migration{{
	Version: 1,
	Name:    "initial",
	SQL: `
CREATE TABLE IF NOT EXISTS federationapi_server_keys (
	server_name TEXT NOT NULL,
	key_id TEXT NOT NULL,
	public_key TEXT NOT NULL,
	valid_until_ts BIGINT NOT NULL,
	expired_ts BIGINT NOT NULL,
	PRIMARY KEY (server_name, key_id)
);
CREATE TABLE IF NOT EXISTS federationapi_key_responses (
	server_name TEXT NOT NULL PRIMARY KEY,
	response TEXT NOT NULL,
	valid_until_ts BIGINT NOT NULL,
	fetched_ts BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS federationapi_queue (
	id {{SERIAL}},
	destination TEXT NOT NULL,
	is_edu BOOLEAN NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS federationapi_queue_destination ON federationapi_queue (destination, id);
CREATE TABLE IF NOT EXISTS federationapi_destinations (
	server_name TEXT NOT NULL PRIMARY KEY,
	failures BIGINT NOT NULL,
	first_failure_ts BIGINT NOT NULL,
	retry_at_ts BIGINT NOT NULL,
	blacklisted BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS federationapi_joined_servers (
	room_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	server_name TEXT NOT NULL,
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX IF NOT EXISTS federationapi_joined_servers_room ON federationapi_joined_servers (room_id, server_name);
CREATE TABLE IF NOT EXISTS federationapi_positions (
	name TEXT NOT NULL PRIMARY KEY,
	seq BIGINT NOT NULL
);
`,
}, {
	Version: 2,
	Name:    "positions in the internal/streampos layout",
	SQL:     `ALTER TABLE federationapi_positions RENAME COLUMN name TO stream`,
}, {
	Version: 3,
	Name:    "dead letters",
	SQL:     streampos.DeadLetterSchema(consumerTables.DeadLetters),
}, {
	// Several federation senders (federationapi/partition.go): a batch
	// is given its transaction ID in the table before it is sent, so a
	// new holder of the destination resends that transaction unchanged;
	// and the newest lease epoch of each destination partition, which
	// every such assignment and every consumer write checks.
	Version: 4,
	Name:    "partitioned sender",
	SQL: `ALTER TABLE federationapi_queue ADD COLUMN txn_id TEXT;
CREATE TABLE federationapi_partitions (
	partition_id INTEGER PRIMARY KEY,
	lease_gen BIGINT NOT NULL,
	lease_rev BIGINT NOT NULL,
	owner TEXT NOT NULL
);`,
}, {
	// Inbound /send transactions answered (or being processed), so a
	// retry reaching any federationapi process is answered, not applied
	// again.
	Version: 5,
	Name:    "inbound transactions",
	SQL: `CREATE TABLE federationapi_inbound_txns (
	origin TEXT NOT NULL,
	txn_id TEXT NOT NULL,
	response TEXT,
	received_ts BIGINT NOT NULL,
	PRIMARY KEY (origin, txn_id)
);
CREATE INDEX federationapi_inbound_txns_received ON federationapi_inbound_txns (received_ts);`,
}, {
	// OpenID tokens, checked by whichever federationapi process a
	// /openid/userinfo request reaches (stored as SHA-256 hashes).
	Version: 6,
	Name:    "openid tokens",
	SQL: `CREATE TABLE federationapi_openid_tokens (
	token_hash TEXT NOT NULL PRIMARY KEY,
	user_id TEXT NOT NULL,
	expires_ts BIGINT NOT NULL
);
CREATE INDEX federationapi_openid_tokens_expires ON federationapi_openid_tokens (expires_ts);`,
}}

// positionsTable holds the consumers' stream positions (internal/streampos).
const positionsTable = "federationapi_positions"

// consumerTables add the messages the consumers gave up on.
var consumerTables = streampos.Tables{Positions: positionsTable, DeadLetters: "federationapi_dead_letters"}

// DeadLetterer records the messages the consumer name gives up on.
func (s *DB) DeadLetterer(name string) stream.DeadLetterFunc {
	return consumerTables.DeadLetterer(s.DB, name)
}

// DeadLetters lists the messages the consumers gave up on.
func (s *DB) DeadLetters(ctx context.Context) ([]streampos.DeadLetter, error) {
	return streampos.DeadLetters(ctx, s.DB, consumerTables.DeadLetters)
}

// DB holds the federationapi tables. Not found is storage.ErrNotFound.
type DB struct {
	*istorage.DB
	// writer fences the consumers' transactions (SetWriterFence).
	writer atomic.Pointer[Fence]
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *istorage.DB) *DB { return &DB{DB: db} }

// Position is the last stream sequence the consumer name applied.
func (s *DB) Position(ctx context.Context, name string) (uint64, error) {
	return streampos.Get(ctx, s.DB, positionsTable, name)
}

// SetPosition records seq for name inside tx, once the writer fence (if
// set) is checked: every consumer transaction ends with it.
func (s *DB) SetPosition(ctx context.Context, tx *istorage.Tx, name string, seq uint64) error {
	if f := s.writer.Load(); f != nil {
		if err := s.CheckFence(ctx, tx, *f); err != nil {
			return err
		}
	}
	return streampos.Set(ctx, tx, positionsTable, name, seq)
}
