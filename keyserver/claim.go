package keyserver

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
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
			if server := serverOf(userID); server != "" {
				if remote[server] == nil {
					remote[server] = map[string]map[string]string{}
				}
				remote[server][userID] = devices
			}
			continue
		}
		for deviceID, alg := range devices {
			key, err := k.db.Claim(ctx, userID, deviceID, alg)
			if errors.Is(err, storage.ErrNotFound) {
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
	k.claimRemote(ctx, remote, time.Duration(req.TimeoutMs)*time.Millisecond, resp)
	return resp, nil
}

func (k *Keyserver) claimRemote(ctx context.Context, byServer map[string]map[string]map[string]string, timeout time.Duration, resp *api.ClaimKeysResponse) {
	if len(byServer) == 0 {
		return
	}
	r := k.getRemote()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for server, users := range byServer {
		if r == nil {
			resp.Failures[server] = unavailable("federation is not available")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout(timeout))
			defer cancel()
			res, err := r.ClaimRemoteKeys(ctx, server, users)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				resp.Failures[server] = unavailable(err.Error())
				return
			}
			for u, devs := range res.OneTimeKeys {
				if serverOf(u) == server {
					resp.OneTimeKeys[u] = devs
				}
			}
		}()
	}
	wg.Wait()
}

// KeyCounts implements api.KeyserverAPI.
func (k *Keyserver) KeyCounts(ctx context.Context, userID, deviceID string) (*api.KeyCounts, error) {
	counts, err := k.db.OneTimeKeyCounts(ctx, userID, deviceID)
	if err != nil {
		return nil, err
	}
	algs, err := k.db.UnusedFallbackAlgorithms(ctx, userID, deviceID)
	if err != nil {
		return nil, err
	}
	return &api.KeyCounts{OneTimeKeyCounts: counts, UnusedFallbackKeyAlgs: algs}, nil
}
