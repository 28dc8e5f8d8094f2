package federationapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/matrix-org/util"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// Outbound EDUs: local typing, receipts, presence, to-device messages and
// device list changes are read from their streams (messages whose Origin
// is us, or for device lists whose user is ours; inbound ones carry the
// remote origin or user) and queued for the servers that need them.
// The queue rows and the stream position commit together. On a first
// start the backlog is skipped: old typing notices are worthless.

var timeNow = time.Now

// eduConsumers maps each stream to its handler: it returns the EDU
// type, content and destinations for one local message (nil content to
// skip it).
func (f *FederationAPI) eduConsumers() map[string]func(ctx context.Context, data []byte) (string, any, []string) {
	return map[string]func(ctx context.Context, data []byte) (string, any, []string){
		stream.Typing: func(ctx context.Context, data []byte) (string, any, []string) {
			var m syncapi.OutputTyping
			if json.Unmarshal(data, &m) != nil || m.Origin != string(f.id.ServerName) {
				return "", nil, nil
			}
			return matrixrules.MTyping, map[string]any{"room_id": m.RoomID, "user_id": m.UserID, "typing": m.Typing}, f.roomServers(ctx, m.RoomID)
		},
		stream.Receipts: func(ctx context.Context, data []byte) (string, any, []string) {
			var m syncapi.OutputReceipt
			if json.Unmarshal(data, &m) != nil || m.Origin != string(f.id.ServerName) || m.Type == "m.read.private" {
				return "", nil, nil
			}
			receipt := map[string]any{"event_ids": []string{m.EventID}, "data": map[string]any{"ts": m.TS}}
			if m.ThreadID != "" {
				receipt["data"].(map[string]any)["thread_id"] = m.ThreadID
			}
			return matrixrules.MReceipt, map[string]any{m.RoomID: map[string]any{m.Type: map[string]any{m.UserID: receipt}}}, f.roomServers(ctx, m.RoomID)
		},
		stream.SendToDevice: func(ctx context.Context, data []byte) (string, any, []string) {
			var m syncapi.OutputSendToDevice
			if json.Unmarshal(data, &m) != nil || m.Origin != string(f.id.ServerName) || domainOf(m.UserID) == f.id.ServerName {
				return "", nil, nil
			}
			return matrixrules.MDirectToDevice, map[string]any{
				"sender": m.Sender, "type": m.Type, "message_id": util.RandomString(16),
				"messages": map[string]any{m.UserID: map[string]json.RawMessage{m.DeviceID: m.Content}},
			}, []string{string(domainOf(m.UserID))}
		},
		stream.Presence: func(ctx context.Context, data []byte) (string, any, []string) {
			var m syncapi.OutputPresence
			if json.Unmarshal(data, &m) != nil || m.Origin != string(f.id.ServerName) {
				return "", nil, nil
			}
			push := map[string]any{"user_id": m.UserID, "presence": m.Presence, "currently_active": m.CurrentlyActive,
				"last_active_ago": max(0, timeNow().UnixMilli()-m.LastActiveTS)}
			if m.StatusMsg != nil {
				push["status_msg"] = *m.StatusMsg
			}
			return matrixrules.MPresence, map[string]any{"push": []any{push}}, f.userServers(ctx, m.UserID)
		},
		stream.DeviceListUpdates: func(ctx context.Context, data []byte) (string, any, []string) {
			var m ksapi.DeviceListUpdate
			// Remote users' updates (published by edu_in.go) are not ours to send.
			if json.Unmarshal(data, &m) != nil || domainOf(m.UserID) != f.id.ServerName {
				return "", nil, nil
			}
			eduType, content := deviceListEDU(&m)
			return eduType, content, f.userServers(ctx, m.UserID)
		},
	}
}

// deviceListEDU is the EDU announcing a local key change: a device's
// (m.device_list_update) or the cross-signing keys' (m.signing_key_update).
func deviceListEDU(m *ksapi.DeviceListUpdate) (string, any) {
	if m.DeviceID == "" {
		c := map[string]any{"user_id": m.UserID}
		if len(m.MasterKey) > 0 {
			c["master_key"] = m.MasterKey
		}
		if len(m.SelfSigningKey) > 0 {
			c["self_signing_key"] = m.SelfSigningKey
		}
		return "m.signing_key_update", c
	}
	prev := m.PrevID
	if prev == nil {
		prev = []int64{}
	}
	c := map[string]any{"user_id": m.UserID, "device_id": m.DeviceID, "stream_id": m.StreamID,
		"prev_id": prev, "deleted": m.Deleted}
	if m.DisplayName != "" {
		c["device_display_name"] = m.DisplayName
	}
	if len(m.Keys) > 0 && !m.Deleted {
		c["keys"] = m.Keys
	}
	return "m.device_list_update", c
}

// roomServers are the other servers joined to a room.
func (f *FederationAPI) roomServers(ctx context.Context, roomID string) []string {
	servers, _ := f.store.JoinedServers(ctx, f.store, roomID)
	return servers
}

// userServers are the servers sharing a room with userID.
func (f *FederationAPI) userServers(ctx context.Context, userID string) []string {
	rooms, err := f.rooms.QueryRoomsForUser(ctx, matrixid.UserID(userID), spec.Join)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rooms {
		for _, s := range f.roomServers(ctx, string(r)) {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// startEDUConsumers starts one consumer per ephemeral stream, adding
// their done channels to dones.
func (f *FederationAPI) startEDUConsumers(ctx, runCtx context.Context, dones []<-chan struct{}) ([]<-chan struct{}, error) {
	for name, h := range f.eduConsumers() {
		s := f.streams[name]
		consumer := "federationapi_" + name
		pos, err := f.store.Position(ctx, consumer)
		if err != nil {
			return dones, err
		}
		if pos == 0 {
			if pos, err = s.LastSeq(ctx); err != nil {
				return dones, err
			}
		}
		h := h
		done, err := s.Consume(runCtx, consumer, pos, f.deadLetterer(consumer), func(ctx context.Context, msg stream.Message) error {
			if !json.Valid(msg.Data) {
				return stream.Poison(fmt.Errorf("%s message is not JSON", name))
			}
			eduType, content, dests := h(ctx, msg.Data)
			dests = f.remoteOnly(dests)
			var body []byte
			if content != nil && len(dests) > 0 {
				var err error
				if body, err = json.Marshal(map[string]any{"edu_type": eduType, "content": content}); err != nil {
					return fmt.Errorf("encode EDU: %w", err)
				}
			}
			err := f.store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				if body != nil {
					if err := f.store.Enqueue(ctx, tx, dests, true, body); err != nil {
						return err
					}
				}
				return f.store.SetPosition(ctx, tx, consumer, msg.Seq)
			})
			if err == nil && body != nil {
				f.sender.Notify(dests...)
			}
			return err
		})
		if err != nil {
			return dones, err
		}
		dones = append(dones, done)
	}
	return dones, nil
}

func (f *FederationAPI) remoteOnly(servers []string) []string {
	out := servers[:0:0]
	for _, s := range servers {
		if spec.ServerName(s) != f.id.ServerName && s != "" {
			out = append(out, s)
		}
	}
	return out
}
