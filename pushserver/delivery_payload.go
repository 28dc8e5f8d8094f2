package pushserver

import (
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// notifyRequest is the body of POST /_matrix/push/v1/notify.
type notifyRequest struct {
	Notification notification `json:"notification"`
}

type notification struct {
	EventID           string          `json:"event_id,omitempty"`
	RoomID            string          `json:"room_id,omitempty"`
	Type              string          `json:"type,omitempty"`
	Sender            string          `json:"sender,omitempty"`
	SenderDisplayName string          `json:"sender_display_name,omitempty"`
	RoomName          string          `json:"room_name,omitempty"`
	RoomAlias         string          `json:"room_alias,omitempty"`
	UserIsTarget      bool            `json:"user_is_target,omitempty"`
	Prio              string          `json:"prio,omitempty"`
	Content           json.RawMessage `json:"content,omitempty"`
	Counts            counts          `json:"counts"`
	Devices           []device        `json:"devices"`
}

// counts always carries unread, also when 0: that is how a badge is
// cleared (gateways leave the badge alone when the count is absent);
// missed_calls is omitted when 0 as the spec says.
type counts struct {
	Unread      int `json:"unread"`
	MissedCalls int `json:"missed_calls,omitempty"`
}

type device struct {
	AppID     string                     `json:"app_id"`
	PushKey   string                     `json:"pushkey"`
	PushKeyTS int64                      `json:"pushkey_ts,omitempty"`
	Data      map[string]json.RawMessage `json:"data,omitempty"`
	Tweaks    map[string]json.RawMessage `json:"tweaks,omitempty"`
}

// pusherData is the pusher's data as the gateway gets it: everything the
// client set except url.
func pusherData(p *storage.Pusher) map[string]json.RawMessage {
	var data map[string]json.RawMessage
	_ = json.Unmarshal(p.Data, &data) // validated when the pusher was set
	delete(data, "url")
	return data
}

// eventIDOnly reports whether the pusher asked for the event_id_only format.
func eventIDOnly(p *storage.Pusher) bool {
	var f struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(p.Data, &f) == nil && f.Format == "event_id_only"
}

// eventNotification builds the notify body for one notification.
func eventNotification(p *storage.Pusher, n *syncapi.PushNotification, c syncapi.PushCounts) notifyRequest {
	out := notification{
		EventID: n.EventID, RoomID: n.RoomID, Prio: priority(n),
		Counts:  counts{Unread: c.Unread, MissedCalls: c.MissedCalls},
		Devices: []device{{AppID: p.AppID, PushKey: p.PushKey, PushKeyTS: p.PushKeyTS, Data: pusherData(p), Tweaks: n.Tweaks}},
	}
	if !eventIDOnly(p) {
		out.Type, out.Sender, out.Content = n.Type, n.Sender, n.Content
		out.SenderDisplayName, out.RoomName, out.RoomAlias = n.SenderDisplayName, n.RoomName, n.RoomAlias
		out.UserIsTarget = n.UserIsTarget
	}
	return notifyRequest{Notification: out}
}

// badgeNotification is a counts-only notify (after the user read something).
func badgeNotification(p *storage.Pusher, c syncapi.PushCounts) notifyRequest {
	return notifyRequest{Notification: notification{
		Counts:  counts{Unread: c.Unread, MissedCalls: c.MissedCalls},
		Devices: []device{{AppID: p.AppID, PushKey: p.PushKey, PushKeyTS: p.PushKeyTS, Data: pusherData(p)}},
	}}
}

// priority is high for what should wake a phone at once: highlights,
// rules that ring (sound), and encrypted events (the phone has to decrypt
// them to know what they are).
func priority(n *syncapi.PushNotification) string {
	if n.Highlight || n.Tweaks["sound"] != nil || n.Type == matrixrules.MRoomEncrypted {
		return "high"
	}
	return "low"
}
