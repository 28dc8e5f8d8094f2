package storage

import (
	"context"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// DirectoryUser is one user directory entry.
type DirectoryUser struct {
	UserID      string
	DisplayName string
	AvatarURL   string
}

// DirectorySearchText is what a directory search matches words against:
// the display name, the localpart and the user ID, lower-cased, each
// word preceded by a space (so " term%" is a word-prefix match).
func DirectorySearchText(userID, displayName string) string {
	local, _, _ := strings.Cut(strings.TrimPrefix(userID, "@"), ":")
	return " " + strings.ToLower(displayName) + " " + strings.ToLower(local) + " " + strings.ToLower(userID)
}

// updateDirectory keeps the user directory in step with a state change:
// a join records the member's name and avatar, a join rule marks the room
// public or not.
func updateDirectory(ctx context.Context, tx *storage.Tx, roomID string, ev *types.Event) error {
	switch {
	case ev.Type == spec.MRoomMember && ev.Membership == "join":
		return updateDirectoryJoins(ctx, tx, []*types.Event{ev})
	case ev.Type == spec.MRoomJoinRules && *ev.StateKey == "":
		if gjson.GetBytes(ev.JSON, "content.join_rule").Str == "public" {
			_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_public_rooms (room_id) VALUES ($1) ON CONFLICT (room_id) DO NOTHING`, roomID)
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM syncapi_public_rooms WHERE room_id = $1`, roomID)
		return err
	}
	return nil
}

// updateDirectoryJoins records joined members' names and avatars (their
// join events, each user once), in multi-row statements.
func updateDirectoryJoins(ctx context.Context, tx *storage.Tx, joins []*types.Event) error {
	return inChunksOf(joins, 100, func(evs []*types.Event) error {
		args := make([]any, 0, len(evs)*4)
		for _, ev := range evs {
			name := gjson.GetBytes(ev.JSON, "content.displayname").Str
			avatar := gjson.GetBytes(ev.JSON, "content.avatar_url").Str
			args = append(args, *ev.StateKey, name, avatar, DirectorySearchText(*ev.StateKey, name))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_user_directory (user_id, display_name, avatar_url, search) VALUES `+storage.Rows(4, len(evs))+`
			ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, avatar_url = excluded.avatar_url, search = excluded.search`, args...)
		return err
	})
}

// likeEscape escapes LIKE wildcards (with \ as the escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchDirectory finds users whose display name, localpart or user ID
// has a word starting with term (lower-case) among the users searcher
// shares a room with and the members of public rooms, display-name
// prefix matches first; at most limit.
func (d *DB) SearchDirectory(ctx context.Context, searcher, term string, limit int) ([]DirectoryUser, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT d.user_id, d.display_name, d.avatar_url FROM syncapi_user_directory d
		WHERE d.search LIKE $2 ESCAPE '\'
		AND EXISTS (SELECT 1 FROM syncapi_current_state m WHERE m.type = 'm.room.member' AND m.state_key = d.user_id AND m.membership = 'join'
			AND (m.room_id IN (SELECT room_id FROM syncapi_public_rooms)
				OR m.room_id IN (SELECT room_id FROM syncapi_current_state WHERE type = 'm.room.member' AND state_key = $1 AND membership = 'join')))
		ORDER BY CASE WHEN lower(d.display_name) LIKE $3 ESCAPE '\' THEN 0 ELSE 1 END, d.user_id
		LIMIT $4`, searcher, "% "+likeEscape(term)+"%", likeEscape(term)+"%", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DirectoryUser
	for rows.Next() {
		var u DirectoryUser
		if err := rows.Scan(&u.UserID, &u.DisplayName, &u.AvatarURL); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// MutualRooms lists rooms both users are joined to, ordered by room ID,
// after the room ID after ("" from the start), at most limit.
func (d *DB) MutualRooms(ctx context.Context, a, b, after string, limit int) ([]string, error) {
	return storage.Strings(d.DB.QueryContext(ctx, `SELECT x.room_id FROM syncapi_current_state x
		JOIN syncapi_current_state y ON y.room_id = x.room_id AND y.type = 'm.room.member' AND y.state_key = $2 AND y.membership = 'join'
		WHERE x.type = 'm.room.member' AND x.state_key = $1 AND x.membership = 'join' AND x.room_id > $3
		ORDER BY x.room_id LIMIT $4`, a, b, after, limit))
}
