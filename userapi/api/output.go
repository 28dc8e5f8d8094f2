package api

import "encoding/json"

// OutputAccountData is one message on the account_data stream: a user's
// global (RoomID empty) or per-room account data of Type changed.
type OutputAccountData struct {
	UserID  string          `json:"user_id"`
	RoomID  string          `json:"room_id,omitempty"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}
