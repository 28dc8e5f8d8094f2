package storage

import (
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/writer"
)

// consumerTable holds the position in each consumed stream.
const consumerTable = "appservice_consumer_seqs"

// Migrations is the appservice component's schema.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "per-appservice queue of items to push and transaction IDs",
	SQL: streampos.Schema(consumerTable) + `
-- What is waiting for each appservice, delivered in id order. txn_id is
-- NULL until the item is put in a transaction; a transaction is retried
-- with exactly the items marked with its ID until the appservice
-- acknowledges it, then they are deleted.
-- kind: event, ephemeral, to_device.
CREATE TABLE appservice_queue (
	id {{SERIAL}},
	appservice_id TEXT NOT NULL,
	txn_id BIGINT,
	kind TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE INDEX appservice_queue_by_txn ON appservice_queue (appservice_id, txn_id, id);
-- The last transaction ID used per appservice (they never repeat).
CREATE TABLE appservice_txn_ids (
	appservice_id TEXT PRIMARY KEY,
	last_txn_id BIGINT NOT NULL
);
`,
}, {
	Version: 2,
	Name:    "dead letters",
	SQL:     streampos.DeadLetterSchema(consumerTables.DeadLetters),
}, {
	// The writer lease's epoch, with several appservice processes
	// (internal/writer).
	Version: 3,
	Name:    "writer epoch",
	SQL:     writer.Schema(WriterTable),
}}

// consumerTables add the messages the consumers gave up on.
var consumerTables = streampos.Tables{Positions: consumerTable, DeadLetters: "appservice_dead_letters"}
