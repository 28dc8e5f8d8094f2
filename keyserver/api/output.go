package api

import "encoding/json"

// DeviceListUpdate is one message on the device_list_updates stream: a
// user's device (DeviceID set) or cross-signing keys (DeviceID empty)
// changed. The keyserver writes it for local users; federationapi may
// write it for remote users it hears about. syncapi turns it into
// device_lists.changed; the federation sender into m.device_list_update
// or m.signing_key_update EDUs, which is why it carries the keys.
type DeviceListUpdate struct {
	UserID      string `json:"user_id"`
	DeviceID    string `json:"device_id,omitempty"`
	DisplayName string `json:"device_display_name,omitempty"`
	// StreamID numbers the user's device list changes (per user,
	// increasing); PrevID is the previous one (federation's prev_id).
	StreamID int64   `json:"stream_id"`
	PrevID   []int64 `json:"prev_id,omitempty"`
	Deleted  bool    `json:"deleted,omitempty"`
	// Keys are the device's identity keys (absent when Deleted).
	Keys json.RawMessage `json:"keys,omitempty"`
	// MasterKey / SelfSigningKey are set for a cross-signing change.
	MasterKey      json.RawMessage `json:"master_key,omitempty"`
	SelfSigningKey json.RawMessage `json:"self_signing_key,omitempty"`
}
