// Package api holds the types syncapi publishes on the ephemeral streams
// (typing, receipts, presence, send_to_device) for the federation sender
// and other readers. Local changes are applied by syncapi before they are
// published; the messages carry Origin so a reader can tell them apart
// from ones a federation receiver publishes.
package api

import (
	"encoding/json"
	"math"
)

// OutputTyping is one typing change (stream.Typing).
type OutputTyping struct {
	Origin    string `json:"origin"`
	RoomID    string `json:"room_id"`
	UserID    string `json:"user_id"`
	Typing    bool   `json:"typing"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
}

// OutputReceipt is one receipt (stream.Receipts).
type OutputReceipt struct {
	Origin   string `json:"origin"`
	RoomID   string `json:"room_id"`
	UserID   string `json:"user_id"`
	Type     string `json:"receipt_type"`
	EventID  string `json:"event_id"`
	ThreadID string `json:"thread_id,omitempty"`
	TS       int64  `json:"ts"`
}

// OutputPresence is one presence change (stream.Presence).
type OutputPresence struct {
	Origin          string  `json:"origin"`
	UserID          string  `json:"user_id"`
	Presence        string  `json:"presence"`
	StatusMsg       *string `json:"status_msg,omitempty"`
	LastActiveTS    int64   `json:"last_active_ts"`
	CurrentlyActive bool    `json:"currently_active"`
}

// OutputSendToDevice is one to-device message for one device
// (stream.SendToDevice). DeviceID "*" means every device of UserID.
type OutputSendToDevice struct {
	Origin   string          `json:"origin"`
	Sender   string          `json:"sender"`
	UserID   string          `json:"user_id"`
	DeviceID string          `json:"device_id"`
	Type     string          `json:"type"`
	Content  json.RawMessage `json:"content"`
}

// NoPusherListing is the listing mark of a wake-up whose users were all
// named rather than listed from the pushers (see syncapi.PushWaker): no
// pusher is woken beyond those named.
const NoPusherListing uint64 = math.MaxUint64

// PushNotification is one notification a pusher delivers: an event push
// rules said notifies the user, with what a push gateway shows.
type PushNotification struct {
	// Pos orders a user's notifications; a pusher stores the last it delivered.
	Pos       int64           `json:"pos"`
	RoomID    string          `json:"room_id"`
	EventID   string          `json:"event_id"`
	Type      string          `json:"type"`
	Sender    string          `json:"sender"`
	Content   json.RawMessage `json:"content,omitempty"`
	Highlight bool            `json:"highlight"`
	// Tweaks are the set_tweak actions of the rule that matched.
	Tweaks map[string]json.RawMessage `json:"tweaks,omitempty"`
	// SenderDisplayName, RoomName and RoomAlias come from the room's current state.
	SenderDisplayName string `json:"sender_display_name,omitempty"`
	RoomName          string `json:"room_name,omitempty"`
	RoomAlias         string `json:"room_alias,omitempty"`
	UserIsTarget      bool   `json:"user_is_target,omitempty"`
	// Skip: the user has since come to ignore the sender; a pusher moves
	// past it without sending.
	Skip bool `json:"skip,omitempty"`
}

// PushCounts are a user's badge counts over all rooms.
type PushCounts struct {
	Unread      int `json:"unread"`
	MissedCalls int `json:"missed_calls"`
}
