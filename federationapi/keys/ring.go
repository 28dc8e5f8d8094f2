package keys

import (
	"context"
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

// keyDB is the store, answering for our own keys without a lookup.
type keyDB struct {
	store *storage.DB
	id    *Identity
}

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
	stored, err := k.store.FetchKeys(ctx, remote)
	if err != nil {
		return nil, err
	}
	for req, res := range stored {
		out[req] = res
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
	return k.store.StoreKeys(ctx, remote)
}
