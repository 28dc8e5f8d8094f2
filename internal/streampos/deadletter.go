package streampos

import (
	"context"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
)

// DeadLetterSchema is the CREATE TABLE of a dead-letter table: the
// messages a consumer gave up on (see stream.DeadLetterFunc), kept for an
// operator to inspect and, once the cause is fixed, replay.
func DeadLetterSchema(table string) string {
	return `CREATE TABLE ` + table + ` (
	stream TEXT NOT NULL,
	seq BIGINT NOT NULL,
	data {{BLOB}} NOT NULL,
	error TEXT NOT NULL,
	failed_at BIGINT NOT NULL,
	PRIMARY KEY (stream, seq)
);`
}

// Tables names a component's position table and dead-letter table.
type Tables struct {
	Positions   string
	DeadLetters string
}

// DeadLetterer is the stream.DeadLetterFunc of the consumer whose
// position is kept under key: the message and its error are recorded and
// the position moves past it, in one transaction.
func (t Tables) DeadLetterer(db *storage.DB, key string) stream.DeadLetterFunc {
	return func(ctx context.Context, msg stream.Message, cause error) error {
		return db.WriteTx(ctx, func(tx *storage.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.DeadLetters+` (stream, seq, data, error, failed_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (stream, seq) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at`,
				key, int64(msg.Seq), msg.Data, storableText(cause.Error()), time.Now().UnixMilli()); err != nil {
				return err
			}
			return Set(ctx, tx, t.Positions, key, msg.Seq)
		})
	}
}

// storableText makes an error message safe for a TEXT column on both
// engines: the error may quote the very bytes that poisoned the message.
func storableText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\u0000`), "\uFFFD")
}

// DeadLetter is one recorded message.
type DeadLetter struct {
	Stream   string
	Seq      uint64
	Data     []byte
	Error    string
	FailedAt time.Time
}

// DeadLetters lists table's records, oldest message first.
func DeadLetters(ctx context.Context, db *storage.DB, table string) ([]DeadLetter, error) {
	rows, err := db.QueryContext(ctx, `SELECT stream, seq, data, error, failed_at FROM `+table+` ORDER BY stream, seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var seq, at int64
		if err := rows.Scan(&d.Stream, &seq, &d.Data, &d.Error, &at); err != nil {
			return nil, err
		}
		d.Seq, d.FailedAt = uint64(seq), time.UnixMilli(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
