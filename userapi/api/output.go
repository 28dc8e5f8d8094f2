package api

import "encoding/json"

// OutputAccountData is one message on the account_data stream: a user's
// global (RoomID empty) or per-room account data of Type changed, or,
// with Erased (and no Type), the user was deactivated with erase: readers
// hide the messages the user sent (syncapi serves them redacted).
type OutputAccountData struct {
	UserID  string          `json:"user_id"`
	RoomID  string          `json:"room_id,omitempty"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
	Erased  bool            `json:"erased,omitempty"`
}

// OutputDeviceChange is one message on the user_devices stream: devices
// of a local user were deleted (logout, device deletion, password change
// with logout, deactivation). The keyserver forgets their keys and
// announces the user's new device list.
type OutputDeviceChange struct {
	UserID           string   `json:"user_id"`
	DeletedDeviceIDs []string `json:"deleted_device_ids"`
	// RenamedDeviceID got the display name DisplayName (other servers
	// show it with the device's keys).
	RenamedDeviceID string `json:"renamed_device_id,omitempty"`
	DisplayName     string `json:"display_name,omitempty"`
}
