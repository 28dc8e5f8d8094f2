package federationapi

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	ksapi "github.com/axon-hs/axon/keyserver/api"
)

// announceDevicesOnJoin tells the servers of a room a local user just
// joined, which share no other room with them, the user's device list
// (spec, Device Management: an m.device_list_update is due "when that
// user joins a room which contains servers which are not already
// receiving updates for that user's device list"). Devices without keys
// are listed too; the stream ID is the user's current one, with no
// prev_id, so a new server starts from it.
func (f *FederationAPI) announceDevicesOnJoin(ctx context.Context, roomID, userID string) {
	if f.users == nil {
		return
	}
	shared := map[string]bool{string(f.id.ServerName): true}
	rooms, err := f.rooms.QueryRoomsForUser(ctx, matrixid.UserID(userID), spec.Join)
	if err != nil {
		f.base.Log.Warn("device list on join: rooms of user", "user_id", userID, "error", err)
		return
	}
	for _, r := range rooms {
		if string(r) == roomID {
			continue
		}
		for _, s := range f.roomServers(ctx, string(r)) {
			shared[s] = true
		}
	}
	var dests []string
	for _, s := range f.roomServers(ctx, roomID) {
		if !shared[s] && !slices.Contains(dests, s) {
			dests = append(dests, s)
		}
	}
	if len(dests) == 0 {
		return
	}
	updates, err := f.deviceList(ctx, userID)
	if err != nil {
		f.base.Log.Warn("device list on join", "user_id", userID, "error", err)
		return
	}
	var bodies [][]byte
	for i := range updates {
		eduType, content := deviceListEDU(&updates[i])
		body, err := json.Marshal(map[string]any{"edu_type": eduType, "content": content})
		if err != nil {
			return
		}
		bodies = append(bodies, body)
	}
	err = f.store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		for _, body := range bodies {
			if err := f.store.Enqueue(ctx, tx, dests, true, body); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.base.Log.Warn("device list on join: queue", "user_id", userID, "error", err)
		return
	}
	f.sender.Notify(dests...)
}

// deviceList is every device of a local user, with its keys if it has
// uploaded any, numbered with the user's current device list stream ID.
func (f *FederationAPI) deviceList(ctx context.Context, userID string) ([]ksapi.DeviceListUpdate, error) {
	devices, err := f.users.QueryDevices(ctx, matrixid.UserID(userID))
	if err != nil {
		return nil, err
	}
	keyed := map[string]json.RawMessage{}
	var streamID int64
	if f.keyAPI != nil {
		devs, err := f.keyAPI.LocalUserDevices(ctx, matrixid.UserID(userID))
		if err != nil {
			return nil, err
		}
		streamID = devs.StreamID
		for _, d := range devs.Devices {
			keyed[d.DeviceID] = d.Keys
		}
	}
	out := make([]ksapi.DeviceListUpdate, 0, len(devices))
	for _, d := range devices {
		out = append(out, ksapi.DeviceListUpdate{UserID: userID, DeviceID: d.DeviceID, DisplayName: d.DisplayName,
			StreamID: streamID, Keys: keyed[d.DeviceID]})
	}
	return out, nil
}
