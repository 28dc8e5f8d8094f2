package clientapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
)

// Remote profiles (GET /profile/{userId} for another server's user) are
// asked of that server over federation (/query/profile) and cached for a
// minute, so a client rendering a member list does not send a request
// per render.

// RemoteProfiles is what the profile routes ask of federation.
type RemoteProfiles interface {
	QueryProfile(ctx context.Context, userID matrixid.UserID, field string) (map[string]json.RawMessage, error)
}

type remoteProfileCache struct {
	fed   RemoteProfiles
	cache *ttlCache[map[string]json.RawMessage]
}

func newRemoteProfileCache(fed RemoteProfiles) *remoteProfileCache {
	return &remoteProfileCache{fed: fed, cache: newTTLCache[map[string]json.RawMessage](time.Minute, 10000)}
}

// get returns the remote user's whole profile (the remote server's error,
// e.g. its 404, when it has none).
func (c *remoteProfileCache) get(ctx context.Context, userID string) (map[string]json.RawMessage, error) {
	return c.cache.get(ctx, userID, func(ctx context.Context) (map[string]json.RawMessage, error) {
		return c.fed.QueryProfile(ctx, matrixid.UserID(userID), "")
	})
}
