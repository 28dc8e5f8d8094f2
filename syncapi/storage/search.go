package storage

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// SearchKey is the one rule of what server-side search indexes: the body
// of messages, the name and the topic of rooms, as the spec's search keys
// name them ("" for events that are not searchable).
func SearchKey(evType string) string {
	switch evType {
	case matrixrules.MRoomMessage:
		return "content.body"
	case spec.MRoomName:
		return "content.name"
	case spec.MRoomTopic:
		return "content.topic"
	}
	return ""
}

// maxIndexedBytes bounds the text indexed per event.
const maxIndexedBytes = 16384

// indexEvent adds ev's searchable text to the full-text index.
func indexEvent(ctx context.Context, tx *storage.Tx, ev *types.Event) error {
	key, text := searchText(ev)
	if key == "" {
		return nil
	}
	if tx.Dialect() == storage.Postgres {
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_search (pos, room_id, key, vec) VALUES ($1, $2, $3, to_tsvector('simple', $4))
			ON CONFLICT (pos) DO NOTHING`, int64(ev.Pos), ev.RoomID, key, text)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_search (docid, body, room_id, key) VALUES ($1, $2, $3, $4)`, int64(ev.Pos), text, ev.RoomID, key)
	return err
}

// searchText is the search key and the text ev is indexed under ("" if
// it is not indexed).
func searchText(ev *types.Event) (key, text string) {
	key = SearchKey(ev.Type)
	if key == "" || ev.Redacted {
		return "", ""
	}
	v := gjson.GetBytes(ev.JSON, key)
	if v.Type != gjson.String || v.Str == "" {
		return "", ""
	}
	text = v.Str
	if len(text) > maxIndexedBytes {
		text = text[:maxIndexedBytes]
		for !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	return key, text
}

// unindexEvent removes a (redacted) event from the index.
func unindexEvent(ctx context.Context, tx *storage.Tx, eventID string) error {
	var pos int64
	if err := tx.QueryRowContext(ctx, `SELECT pos FROM syncapi_events WHERE event_id = $1`, eventID).Scan(&pos); err != nil {
		return ignoreNoRows(err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM syncapi_search AS s WHERE `+posColumn(tx.Dialect() != storage.Postgres)+` = $1`, pos)
	return err
}

// SearchQuery is one page of a full-text search.
type SearchQuery struct {
	// Terms are words (letters and digits only); all must match.
	Terms []string
	Rooms []string
	Keys  []string
	// ByRank orders by relevance (paged by Offset), else newest first
	// (paged by Before, an exclusive position bound; 0: none).
	ByRank bool
	Offset int
	Before int64
	Limit  int
}

// SearchHit is one matching event.
type SearchHit struct {
	Pos    types.StreamPosition
	RoomID string
	Rank   float64
}

// searchWhere is the shared FROM/WHERE of a search and its arguments.
func (d *DB) searchWhere(q *SearchQuery) (from, where string, args []any) {
	if d.DB.Dialect == storage.Postgres {
		args = []any{strings.Join(q.Terms, " ")}
		from = `syncapi_search s, plainto_tsquery('simple', $1) q`
		where = `s.vec @@ q`
	} else {
		quoted := make([]string, len(q.Terms))
		for i, t := range q.Terms {
			quoted[i] = `"` + t + `"`
		}
		args = []any{strings.Join(quoted, " ")}
		// One full-text table (migration 13): the room and key are
		// stored, not indexed, columns beside the text, read by docid.
		from = `syncapi_search s`
		where = `s.syncapi_search MATCH $1`
	}
	where += ` AND s.room_id IN (` + storage.InList(len(args)+1, len(q.Rooms)) + `)`
	for _, r := range q.Rooms {
		args = append(args, r)
	}
	where += ` AND s.key IN (` + storage.InList(len(args)+1, len(q.Keys)) + `)`
	for _, k := range q.Keys {
		args = append(args, k)
	}
	return from, where, args
}

// posColumn is the search row's event position: on SQLite the
// full-text table's docid.
func posColumn(sqlite bool) string {
	if sqlite {
		return `s.docid`
	}
	return `s.pos`
}

// sqliteRankWindow: on SQLite, rank order ranks the newest this many
// matches. FTS4 has no ranking index, so ranking means re-reading every
// matching text; bounding it keeps a search for a common word in time
// (PostgreSQL ranks every match).
const sqliteRankWindow = 2000

// maxSearchCount bounds the count a search reports (the spec's count is
// approximate; counting every match of a common word is not worth it).
const maxSearchCount = 1000

// Search returns one page of matches in q.Rooms.
func (d *DB) Search(ctx context.Context, q SearchQuery) ([]SearchHit, error) {
	if len(q.Terms) == 0 || len(q.Rooms) == 0 || len(q.Keys) == 0 {
		return nil, nil
	}
	from, where, args := d.searchWhere(&q)
	sqlite := d.DB.Dialect != storage.Postgres
	if !q.ByRank && q.Before != 0 {
		where += fmt.Sprintf(` AND `+posColumn(sqlite)+` < $%d`, len(args)+1)
		args = append(args, q.Before)
	}
	page := func(args []any) ([]any, string) {
		args = append(args, q.Limit, q.Offset)
		return args, fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(args)-1, len(args))
	}
	var query string
	switch {
	case sqlite && q.ByRank:
		// Hits of the terms (from offsets()) damped by the text's length.
		rank := `(length(offsets(s.syncapi_search)) - length(replace(offsets(s.syncapi_search), ' ', '')) + 1) / 4.0
			/ (1.0 + length(s.body) / 100.0)`
		var limit string
		args, limit = page(args)
		query = `SELECT pos, room_id, rank FROM (SELECT s.docid AS pos, s.room_id AS room_id, ` + rank + ` AS rank FROM ` + from + ` WHERE ` + where +
			fmt.Sprintf(` ORDER BY s.docid DESC LIMIT %d)`, sqliteRankWindow) + ` ORDER BY rank DESC, pos DESC` + limit
	case sqlite:
		var limit string
		args, limit = page(args)
		query = `SELECT s.docid, s.room_id, 0.0 FROM ` + from + ` WHERE ` + where + ` ORDER BY s.docid DESC` + limit
	default:
		order := ` ORDER BY rank DESC, s.pos DESC`
		if !q.ByRank {
			order = ` ORDER BY s.pos DESC`
		}
		var limit string
		args, limit = page(args)
		query = `SELECT s.pos, s.room_id, ts_rank(s.vec, q) AS rank FROM ` + from + ` WHERE ` + where + order + limit
	}
	rows, err := d.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SearchHit
	for rows.Next() {
		var h SearchHit
		var pos int64
		if err := rows.Scan(&pos, &h.RoomID, &h.Rank); err != nil {
			return nil, err
		}
		h.Pos = types.StreamPosition(pos)
		out = append(out, h)
	}
	return out, rows.Err()
}

// SearchCount counts the matches of q up to maxSearchCount (before
// visibility checks: the spec's count is approximate).
func (d *DB) SearchCount(ctx context.Context, q SearchQuery) (int, error) {
	if len(q.Terms) == 0 || len(q.Rooms) == 0 || len(q.Keys) == 0 {
		return 0, nil
	}
	from, where, args := d.searchWhere(&q)
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+from+` WHERE `+where+fmt.Sprintf(` LIMIT %d) c`, maxSearchCount), args...).Scan(&n)
	return n, err
}

// EventsByPos returns the stored events at the given positions.
func (d *DB) EventsByPos(ctx context.Context, pos []types.StreamPosition) ([]*types.Event, error) {
	if len(pos) == 0 {
		return nil, nil
	}
	args := make([]any, len(pos))
	for i, p := range pos {
		args[i] = int64(p)
	}
	return scanEvents(d.DB.QueryContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events WHERE pos IN (`+storage.InList(1, len(pos))+`)`, args...))
}
