package keys

import (
	"context"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/storage"
)

// Ring verifies signed JSON from any server. It implements
// gomatrixserverlib.JSONVerifier.
type Ring struct {
	ring   gomatrixserverlib.KeyRing
	direct *directFetcher
	id     *Identity
	store  *storage.DB
	now    func() time.Time
}

// NewRing builds a key ring: cached keys first, then the server itself,
// then each trusted notary in order.
func NewRing(id *Identity, store *storage.DB, client gomatrixserverlib.KeyClient, notaries []string) *Ring {
	now := time.Now
	direct := &directFetcher{client: client, store: store, now: now}
	fetchers := []gomatrixserverlib.KeyFetcher{direct}
	for _, n := range notaries {
		if spec.ServerName(n) == id.ServerName {
			continue
		}
		fetchers = append(fetchers, &notaryFetcher{notary: spec.ServerName(n), client: client, direct: direct, store: store, now: now})
	}
	r := &Ring{direct: direct, id: id, store: store, now: now}
	r.ring = gomatrixserverlib.KeyRing{KeyFetchers: fetchers, KeyDatabase: &keyDB{store: store, id: id}}
	return r
}

// VerifyJSONs implements gomatrixserverlib.JSONVerifier.
func (r *Ring) VerifyJSONs(ctx context.Context, requests []gomatrixserverlib.VerifyJSONRequest) ([]gomatrixserverlib.VerifyJSONResult, error) {
	return r.ring.VerifyJSONs(ctx, requests)
}

// keyDB is the store, answering for our own keys without a lookup and
// for other servers' keys from memory once read: every inbound PDU and
// request needs its origin's key, and a query each would be one round
// trip per PDU on PostgreSQL. Keys past their validity are still
// returned, so the key ring refetches them as it would from the store;
// what it stores replaces the memory copy on the next read.
type keyDB struct {
	store *storage.DB
	id    *Identity

	mu     sync.Mutex
	cached map[lookupReq]lookupRes
}

// maxCachedKeys bounds keyDB's memory (the cache starts over when full).
const maxCachedKeys = 10000

func (k *keyDB) FetcherName() string { return "database" }

func (k *keyDB) FetchKeys(ctx context.Context, requests map[lookupReq]spec.Timestamp) (map[lookupReq]lookupRes, error) {
	remote := map[lookupReq]spec.Timestamp{}
	out := map[lookupReq]lookupRes{}
	for req, ts := range requests {
		if req.ServerName != k.id.ServerName {
			remote[req] = ts
			continue
		}
		if req.KeyID == k.id.KeyID {
			out[req] = lookupRes{VerifyKey: gomatrixserverlib.VerifyKey{Key: spec.Base64Bytes(k.id.PublicKey())},
				ValidUntilTS: spec.AsTimestamp(time.Now().Add(Validity)), ExpiredTS: gomatrixserverlib.PublicKeyNotExpired}
		} else if old, ok := k.id.OldKeys[req.KeyID]; ok {
			out[req] = lookupRes{VerifyKey: old.VerifyKey, ExpiredTS: old.ExpiredTS}
		}
	}
	k.mu.Lock()
	for req := range remote {
		if res, ok := k.cached[req]; ok {
			out[req] = res
			delete(remote, req)
		}
	}
	k.mu.Unlock()
	if len(remote) == 0 {
		return out, nil
	}
	stored, err := k.store.FetchKeys(ctx, remote)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cached == nil || len(k.cached)+len(stored) > maxCachedKeys {
		k.cached = map[lookupReq]lookupRes{}
	}
	for req, res := range stored {
		out[req] = res
		k.cached[req] = res
	}
	return out, nil
}

func (k *keyDB) StoreKeys(ctx context.Context, results map[lookupReq]lookupRes) error {
	remote := map[lookupReq]lookupRes{}
	for req, res := range results {
		if req.ServerName != k.id.ServerName {
			remote[req] = res
		}
	}
	err := k.store.StoreKeys(ctx, remote)
	k.mu.Lock()
	defer k.mu.Unlock()
	for req := range remote {
		delete(k.cached, req) // the store keeps the longest-valid copy: read it again
	}
	return err
}
