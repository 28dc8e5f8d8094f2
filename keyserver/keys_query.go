package keyserver

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// QueryKeys implements api.KeyserverAPI.
func (k *Keyserver) QueryKeys(ctx context.Context, req *api.QueryKeysRequest) (*api.QueryKeysResponse, error) {
	resp := &api.QueryKeysResponse{
		Failures:        map[string]json.RawMessage{},
		DeviceKeys:      map[string]map[string]json.RawMessage{},
		MasterKeys:      map[string]json.RawMessage{},
		SelfSigningKeys: map[string]json.RawMessage{},
		UserSigningKeys: map[string]json.RawMessage{},
	}
	remote := map[string]map[string][]string{}
	for userID, devices := range req.DeviceKeys {
		if !k.isLocal(userID) {
			addRemote(remote, userID, devices)
			continue
		}
		if err := k.queryLocal(ctx, req.UserID, userID, devices, resp); err != nil {
			return nil, err
		}
	}
	askServers(ctx, k.getRemote(), remote, time.Duration(req.TimeoutMs)*time.Millisecond, resp.Failures,
		func(ctx context.Context, r Remote, server string, users map[string][]string) (*api.QueryKeysResponse, error) {
			return r.QueryRemoteKeys(ctx, server, users)
		},
		func(server string, res *api.QueryKeysResponse) {
			mergeFrom(server, resp.DeviceKeys, res.DeviceKeys)
			mergeFrom(server, resp.MasterKeys, res.MasterKeys)
			mergeFrom(server, resp.SelfSigningKeys, res.SelfSigningKeys)
		})
	return resp, nil
}

// queryLocal adds one local user's keys to resp. Keys of devices the
// userapi no longer has are deleted (and the change announced) here,
// because device deletions are not published.
func (k *Keyserver) queryLocal(ctx context.Context, requester, userID string, want []string, resp *api.QueryKeysResponse) error {
	devices, err := k.users.QueryDevices(ctx, matrixid.UserID(userID))
	if errors.Is(err, uapi.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	stored, err := k.db.DeviceKeys(ctx, userID)
	if err != nil {
		return err
	}
	names := make(map[string]string, len(devices))
	for _, d := range devices {
		names[d.DeviceID] = d.DisplayName
	}
	var gone []string
	for id := range stored {
		if _, ok := names[id]; !ok {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if err := k.DeleteDeviceKeys(ctx, matrixid.UserID(userID), gone); err != nil {
			return err
		}
	}
	sigs, err := k.signaturesFor(ctx, requester, userID)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, d := range want {
		wanted[d] = true
	}
	out := map[string]json.RawMessage{}
	for id, js := range stored {
		name, exists := names[id]
		if !exists || (len(wanted) > 0 && !wanted[id]) {
			continue
		}
		unsigned := map[string]any{}
		if name != "" {
			unsigned["device_display_name"] = name
		}
		out[id] = withSignatures(js, sigs[id], unsigned)
	}
	resp.DeviceKeys[userID] = out

	cs, err := k.db.CrossSigningKeys(ctx, userID)
	if err != nil {
		return err
	}
	for typ, dst := range map[string]map[string]json.RawMessage{
		storage.KeyMaster: resp.MasterKeys, storage.KeySelfSigning: resp.SelfSigningKeys, storage.KeyUserSigning: resp.UserSigningKeys,
	} {
		js, ok := cs[typ]
		if !ok || (typ == storage.KeyUserSigning && requester != userID) {
			continue
		}
		var extra map[string]map[string]string
		if o, err := parseKeyObject(js); err == nil {
			if pub, err := o.crossSigningPublic(); err == nil {
				extra = sigs[pub]
			}
		}
		dst[userID] = withSignatures(js, extra, nil)
	}
	return nil
}

// signaturesFor returns the stored signatures on userID's keys that
// requester may see — the user's own, and requester's (a user-signing
// signature is private to its maker) — as target key → signer → key ID
// → signature.
func (k *Keyserver) signaturesFor(ctx context.Context, requester, userID string) (map[string]map[string]map[string]string, error) {
	sigs, err := k.db.Signatures(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]map[string]string{}
	for _, s := range sigs {
		if s.OriginUserID != userID && s.OriginUserID != requester {
			continue
		}
		if out[s.TargetKeyID] == nil {
			out[s.TargetKeyID] = map[string]map[string]string{}
		}
		if out[s.TargetKeyID][s.OriginUserID] == nil {
			out[s.TargetKeyID][s.OriginUserID] = map[string]string{}
		}
		out[s.TargetKeyID][s.OriginUserID][s.OriginKeyID] = s.Signature
	}
	return out, nil
}

// LocalUserDevices implements api.KeyserverAPI.
func (k *Keyserver) LocalUserDevices(ctx context.Context, userID matrixid.UserID) (*api.UserDevices, error) {
	if !k.isLocal(string(userID)) {
		return nil, api.ErrNotLocal
	}
	q, err := k.QueryKeys(ctx, &api.QueryKeysRequest{DeviceKeys: map[string][]string{string(userID): nil}})
	if err != nil {
		return nil, err
	}
	streamID, err := k.db.StreamID(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	out := &api.UserDevices{UserID: string(userID), StreamID: streamID, Devices: []api.DeviceKeys{},
		MasterKey: q.MasterKeys[string(userID)], SelfSigningKey: q.SelfSigningKeys[string(userID)]}
	for id, keys := range q.DeviceKeys[string(userID)] {
		d := api.DeviceKeys{DeviceID: id, Keys: keys}
		var o struct {
			Unsigned struct {
				Name string `json:"device_display_name"`
			} `json:"unsigned"`
		}
		if json.Unmarshal(keys, &o) == nil {
			d.DisplayName = o.Unsigned.Name
		}
		out.Devices = append(out.Devices, d)
	}
	return out, nil
}

// DeleteDeviceKeys implements api.KeyserverAPI.
func (k *Keyserver) DeleteDeviceKeys(ctx context.Context, userID matrixid.UserID, deviceIDs []string) error {
	defer k.lockUser(string(userID)).Unlock()
	defer k.forgetCounts(string(userID), deviceIDs...)
	return k.commit(ctx, func(tx *istorage.Tx) ([]api.DeviceListUpdate, error) {
		return k.deleteKeys(ctx, tx, string(userID), deviceIDs)
	})
}

// deleteKeys forgets the devices' keys inside tx and returns the updates
// announcing it (none if they had no identity keys).
func (k *Keyserver) deleteKeys(ctx context.Context, tx *istorage.Tx, userID string, deviceIDs []string) ([]api.DeviceListUpdate, error) {
	deleted, streamID, err := k.db.DeleteDevices(ctx, tx, userID, deviceIDs)
	if err != nil || streamID == 0 {
		return nil, err
	}
	updates := make([]api.DeviceListUpdate, 0, len(deleted))
	for _, dev := range deleted {
		// One stream ID covers the whole deletion.
		updates = append(updates, api.DeviceListUpdate{UserID: userID, DeviceID: dev, Deleted: true, StreamID: streamID})
	}
	return updates, nil
}
