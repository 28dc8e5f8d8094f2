package keyserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
)

// UploadKeys implements api.KeyserverAPI.
func (k *Keyserver) UploadKeys(ctx context.Context, req *api.UploadKeysRequest) (*api.UploadKeysResponse, error) {
	up := storage.Upload{UserID: req.UserID, DeviceID: req.DeviceID}
	if len(req.DeviceKeys) > 0 && string(req.DeviceKeys) != "null" {
		o, err := parseKeyObject(req.DeviceKeys)
		if err != nil {
			return nil, fmt.Errorf("%w: device_keys: %v", api.ErrInvalidKeys, err)
		}
		if o.UserID != req.UserID || o.DeviceID != req.DeviceID {
			return nil, fmt.Errorf("%w: device_keys must have user_id %s and device_id %s", api.ErrInvalidKeys, req.UserID, req.DeviceID)
		}
		if _, ok := o.ed25519Key(req.DeviceID); !ok {
			return nil, fmt.Errorf("%w: device_keys must have an ed25519:%s key", api.ErrInvalidKeys, req.DeviceID)
		}
		up.DeviceKeys = req.DeviceKeys
	}
	var err error
	if up.OneTimeKeys, err = splitKeys(req.OneTimeKeys, "one_time_keys"); err != nil {
		return nil, err
	}
	if up.FallbackKeys, err = splitKeys(req.FallbackKeys, "fallback_keys"); err != nil {
		return nil, err
	}
	if err := k.store(ctx, up); err != nil {
		return nil, err
	}
	counts, err := k.db.OneTimeKeyCounts(ctx, req.UserID, req.DeviceID)
	if err != nil {
		return nil, err
	}
	return &api.UploadKeysResponse{OneTimeKeyCounts: counts}, nil
}

// store commits an upload and announces changed identity keys.
func (k *Keyserver) store(ctx context.Context, up storage.Upload) error {
	update := api.DeviceListUpdate{UserID: up.UserID, DeviceID: up.DeviceID, Keys: up.DeviceKeys}
	if up.DeviceKeys != nil { // federation's update carries the device's name
		if dev, err := k.users.QueryDevice(ctx, matrixid.UserID(up.UserID), up.DeviceID); err == nil {
			update.DisplayName = dev.DisplayName
		}
	}
	defer k.lockUser(up.UserID).Unlock()
	defer k.forgetCounts(up.UserID, up.DeviceID)
	return k.commit(ctx, func(tx *istorage.Tx) ([]api.DeviceListUpdate, error) {
		streamID, err := k.db.Upload(ctx, tx, up)
		if err != nil || streamID == 0 {
			return nil, err
		}
		update.StreamID = streamID
		return []api.DeviceListUpdate{update}, nil
	})
}

// splitKeys turns {"alg:id": key} into storage keys.
func splitKeys(in map[string]json.RawMessage, field string) ([]storage.Key, error) {
	out := make([]storage.Key, 0, len(in))
	for name, js := range in {
		alg, id, ok := strings.Cut(name, ":")
		if !ok || alg == "" || id == "" {
			return nil, fmt.Errorf("%w: %s: key name %q is not <algorithm>:<key_id>", api.ErrInvalidKeys, field, name)
		}
		if len(js) == 0 || (js[0] != '{' && js[0] != '"') {
			return nil, fmt.Errorf("%w: %s: key %q must be an object or a string", api.ErrInvalidKeys, field, name)
		}
		out = append(out, storage.Key{Algorithm: alg, KeyID: id, JSON: js})
	}
	return out, nil
}
