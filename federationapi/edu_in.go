package federationapi

import (
	"context"
	"encoding/json"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/stream"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// remoteTypingTimeoutMS: typing EDUs carry no timeout; the spec suggests
// servers expire remote typing after about 30 seconds.
const remoteTypingTimeoutMS = 30000

// Inbound EDUs are published on the same streams local changes go to
// (syncapi/api types, Origin set to the sending server), where syncapi
// picks them up for local clients. Each is checked: the user must belong
// to the origin, and room-scoped ones need the origin in the room and
// allowed by its ACL. Bad EDUs are dropped: EDUs have no per-item result.
func (f *FederationAPI) processEDUs(ctx context.Context, origin spec.ServerName, edus []inboundEDU) {
	for _, e := range edus {
		switch e.Type {
		case matrixrules.MTyping:
			f.inboundTyping(ctx, origin, e.Content)
		case matrixrules.MReceipt:
			f.inboundReceipts(ctx, origin, e.Content)
		case matrixrules.MPresence:
			f.inboundPresence(ctx, origin, e.Content)
		case matrixrules.MDirectToDevice:
			f.inboundToDevice(ctx, origin, e.Content)
		case "m.device_list_update":
			f.inboundDeviceList(ctx, origin, e.Content)
		case "m.signing_key_update":
			f.inboundSigningKeys(ctx, origin, e.Content)
		}
	}
}

// roomEDUAllowed: the user is the origin's and the origin may speak in
// the room.
func (f *FederationAPI) roomEDUAllowed(ctx context.Context, origin spec.ServerName, roomID, userID string) bool {
	if domainOf(userID) != origin || roomID == "" {
		return false
	}
	_, r := f.roomAccess(ctx, roomID, origin, true)
	return r == nil
}

func (f *FederationAPI) inboundTyping(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	var c struct {
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Typing bool   `json:"typing"`
	}
	if json.Unmarshal(content, &c) != nil || !f.roomEDUAllowed(ctx, origin, c.RoomID, c.UserID) {
		return
	}
	out := syncapi.OutputTyping{Origin: string(origin), RoomID: c.RoomID, UserID: c.UserID, Typing: c.Typing}
	if c.Typing {
		out.TimeoutMS = remoteTypingTimeoutMS
	}
	f.publish(ctx, stream.Typing, &out)
}

func (f *FederationAPI) inboundReceipts(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	// room ID → receipt type → user ID → {event_ids, data}
	var c map[string]map[string]map[string]struct {
		EventIDs []string `json:"event_ids"`
		Data     struct {
			TS       int64  `json:"ts"`
			ThreadID string `json:"thread_id"`
		} `json:"data"`
	}
	if json.Unmarshal(content, &c) != nil {
		return
	}
	for roomID, types := range c {
		for rtype, users := range types {
			for userID, r := range users {
				if !f.roomEDUAllowed(ctx, origin, roomID, userID) {
					continue
				}
				for _, eventID := range r.EventIDs {
					f.publish(ctx, stream.Receipts, &syncapi.OutputReceipt{Origin: string(origin), RoomID: roomID, UserID: userID,
						Type: rtype, EventID: eventID, ThreadID: r.Data.ThreadID, TS: r.Data.TS})
				}
			}
		}
	}
}

func (f *FederationAPI) inboundPresence(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	var c struct {
		Push []struct {
			UserID          string  `json:"user_id"`
			Presence        string  `json:"presence"`
			StatusMsg       *string `json:"status_msg"`
			LastActiveAgo   int64   `json:"last_active_ago"`
			CurrentlyActive bool    `json:"currently_active"`
		} `json:"push"`
	}
	if json.Unmarshal(content, &c) != nil {
		return
	}
	now := spec.AsTimestamp(timeNow())
	for _, p := range c.Push {
		if domainOf(p.UserID) != origin {
			continue
		}
		switch p.Presence {
		case "online", "offline", "unavailable":
		default:
			continue
		}
		f.publish(ctx, stream.Presence, &syncapi.OutputPresence{Origin: string(origin), UserID: p.UserID, Presence: p.Presence,
			StatusMsg: p.StatusMsg, LastActiveTS: int64(now) - p.LastActiveAgo, CurrentlyActive: p.CurrentlyActive})
	}
}

func (f *FederationAPI) inboundToDevice(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	var c struct {
		Sender   string                                `json:"sender"`
		Type     string                                `json:"type"`
		Messages map[string]map[string]json.RawMessage `json:"messages"`
	}
	if json.Unmarshal(content, &c) != nil || domainOf(c.Sender) != origin || c.Type == "" {
		return
	}
	for userID, devices := range c.Messages {
		if domainOf(userID) != f.id.ServerName {
			continue
		}
		for deviceID, msg := range devices {
			f.publish(ctx, stream.SendToDevice, &syncapi.OutputSendToDevice{Origin: string(origin), Sender: c.Sender,
				UserID: userID, DeviceID: deviceID, Type: c.Type, Content: msg})
		}
	}
}

// inboundDeviceList publishes a remote user's device change on
// device_list_updates, where syncapi tells local users sharing a room
// with them (their keys are fetched from the origin on the next query).
// Duplicates and whole-list announcements are not published
// (newDeviceListUpdate).
func (f *FederationAPI) inboundDeviceList(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	var c struct {
		UserID      string          `json:"user_id"`
		DeviceID    string          `json:"device_id"`
		DisplayName string          `json:"device_display_name"`
		StreamID    int64           `json:"stream_id"`
		PrevID      []int64         `json:"prev_id"`
		Deleted     bool            `json:"deleted"`
		Keys        json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(content, &c) != nil || domainOf(c.UserID) != origin || c.DeviceID == "" {
		return
	}
	if len(c.Keys) > 0 && !keysOwnedBy(c.Keys, c.UserID, c.DeviceID) {
		return
	}
	if c.Deleted {
		c.Keys = nil
	}
	if !f.newDeviceListUpdate(ctx, c.UserID, c.StreamID, c.PrevID) {
		return
	}
	f.publish(ctx, stream.DeviceListUpdates, &ksapi.DeviceListUpdate{UserID: c.UserID, DeviceID: c.DeviceID,
		DisplayName: c.DisplayName, StreamID: c.StreamID, PrevID: c.PrevID, Deleted: c.Deleted, Keys: c.Keys})
}

// inboundSigningKeys publishes a remote user's cross-signing change.
func (f *FederationAPI) inboundSigningKeys(ctx context.Context, origin spec.ServerName, content json.RawMessage) {
	var c struct {
		UserID         string          `json:"user_id"`
		MasterKey      json.RawMessage `json:"master_key"`
		SelfSigningKey json.RawMessage `json:"self_signing_key"`
	}
	if json.Unmarshal(content, &c) != nil || domainOf(c.UserID) != origin {
		return
	}
	for _, k := range []json.RawMessage{c.MasterKey, c.SelfSigningKey} {
		if len(k) > 0 && !keysOwnedBy(k, c.UserID, "") {
			return
		}
	}
	if len(c.MasterKey) == 0 && len(c.SelfSigningKey) == 0 {
		return
	}
	f.publish(ctx, stream.DeviceListUpdates, &ksapi.DeviceListUpdate{UserID: c.UserID,
		MasterKey: c.MasterKey, SelfSigningKey: c.SelfSigningKey})
}

// keysOwnedBy reports whether a key object names userID (and deviceID,
// when given) as its owner, so one user's update cannot carry another's
// keys.
func keysOwnedBy(raw json.RawMessage, userID, deviceID string) bool {
	var k struct {
		UserID   string `json:"user_id"`
		DeviceID string `json:"device_id"`
	}
	if json.Unmarshal(raw, &k) != nil || k.UserID != userID {
		return false
	}
	return deviceID == "" || k.DeviceID == deviceID
}

// publish writes v to a stream opened at start; failures are logged (an
// EDU is best-effort by design).
func (f *FederationAPI) publish(ctx context.Context, name string, v any) {
	s := f.streams[name]
	if s == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	if _, err := s.Publish(ctx, data, nil); err != nil {
		f.base.Log.Warn("publish inbound EDU", "stream", name, "error", err)
	}
}
