package keyserver

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/keyserver/api"
)

// ClaimKeys implements api.KeyserverAPI.
func (k *Keyserver) ClaimKeys(ctx context.Context, req *api.ClaimKeysRequest) (*api.ClaimKeysResponse, error) {
	resp := &api.ClaimKeysResponse{
		Failures:    map[string]json.RawMessage{},
		OneTimeKeys: map[string]map[string]map[string]json.RawMessage{},
	}
	remote := map[string]map[string]map[string]string{}
	for userID, devices := range req.OneTimeKeys {
		if !k.isLocal(userID) {
			addRemote(remote, userID, devices)
			continue
		}
		for deviceID, alg := range devices {
			key, err := k.db.Claim(ctx, userID, deviceID, alg)
			k.forgetCounts(userID, deviceID)
			if errors.Is(err, istorage.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if resp.OneTimeKeys[userID] == nil {
				resp.OneTimeKeys[userID] = map[string]map[string]json.RawMessage{}
			}
			resp.OneTimeKeys[userID][deviceID] = map[string]json.RawMessage{key.Algorithm + ":" + key.KeyID: key.JSON}
		}
	}
	askServers(ctx, k.getRemote(), remote, time.Duration(req.TimeoutMs)*time.Millisecond, resp.Failures,
		func(ctx context.Context, r Remote, server string, users map[string]map[string]string) (*api.ClaimKeysResponse, error) {
			return r.ClaimRemoteKeys(ctx, server, users)
		},
		func(server string, res *api.ClaimKeysResponse) { mergeFrom(server, resp.OneTimeKeys, res.OneTimeKeys) })
	return resp, nil
}
