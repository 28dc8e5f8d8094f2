package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"golang.org/x/sync/singleflight"

	"github.com/axon-hs/axon/federationapi/storage"
)

type (
	lookupReq = gomatrixserverlib.PublicKeyLookupRequest
	lookupRes = gomatrixserverlib.PublicKeyLookupResult
)

// fetchTimeout bounds one key fetch from one server.
const fetchTimeout = 15 * time.Second

// failureHold is how long a server that failed to give us keys is not
// asked again, so a dead server cannot make every verification wait.
const failureHold = time.Minute

// directFetcher asks each server for its own keys, keeping the raw
// response (for re-serving as a notary). Concurrent asks for one server
// share one request.
type directFetcher struct {
	client gomatrixserverlib.KeyClient
	store  *storage.DB
	now    func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	fails map[spec.ServerName]time.Time
}

func (d *directFetcher) FetcherName() string { return "direct" }

func (d *directFetcher) FetchKeys(ctx context.Context, requests map[lookupReq]spec.Timestamp) (map[lookupReq]lookupRes, error) {
	servers := map[spec.ServerName]bool{}
	for req := range requests {
		servers[req.ServerName] = true
	}
	out := map[lookupReq]lookupRes{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for server := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := d.fetch(ctx, server)
			if err != nil {
				return
			}
			mu.Lock()
			addResults(keys, out)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, nil
}

// fetch gets, checks and stores serverName's own key response.
func (d *directFetcher) fetch(ctx context.Context, serverName spec.ServerName) (gomatrixserverlib.ServerKeys, error) {
	d.mu.Lock()
	if t, ok := d.fails[serverName]; ok && d.now().Before(t.Add(failureHold)) {
		d.mu.Unlock()
		return gomatrixserverlib.ServerKeys{}, fmt.Errorf("keys for %s failed recently", serverName)
	}
	d.mu.Unlock()
	v, err, _ := d.group.Do(string(serverName), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		keys, err := d.client.GetServerKeys(ctx, serverName)
		if err == nil {
			err = checkKeys(serverName, keys)
		}
		if err == nil {
			err = d.store.StoreKeyResponse(ctx, storage.KeyResponse{
				ServerName: string(serverName), Response: keys.Raw,
				ValidUntilTS: int64(keys.ValidUntilTS), FetchedTS: d.now().UnixMilli(),
			})
		}
		d.mu.Lock()
		if d.fails == nil {
			d.fails = map[spec.ServerName]time.Time{}
		}
		if err != nil {
			d.fails[serverName] = d.now()
		} else {
			delete(d.fails, serverName)
		}
		d.mu.Unlock()
		return keys, err
	})
	if err != nil {
		return gomatrixserverlib.ServerKeys{}, err
	}
	return v.(gomatrixserverlib.ServerKeys), nil
}

// checkKeys requires the response to be for serverName and self-signed by
// every ed25519 key it lists.
func checkKeys(serverName spec.ServerName, keys gomatrixserverlib.ServerKeys) error {
	checks, _ := gomatrixserverlib.CheckKeys(serverName, time.Unix(0, 0), keys)
	if !checks.AllChecksOK {
		return errors.New("key response failed checks (server name, self-signatures or ed25519 key)")
	}
	return nil
}

// addResults maps a verified key response to lookup results.
func addResults(keys gomatrixserverlib.ServerKeys, out map[lookupReq]lookupRes) {
	for id, k := range keys.VerifyKeys {
		out[lookupReq{ServerName: keys.ServerName, KeyID: id}] = lookupRes{VerifyKey: k, ValidUntilTS: keys.ValidUntilTS, ExpiredTS: gomatrixserverlib.PublicKeyNotExpired}
	}
	for id, k := range keys.OldVerifyKeys {
		out[lookupReq{ServerName: keys.ServerName, KeyID: id}] = lookupRes{VerifyKey: k.VerifyKey, ValidUntilTS: gomatrixserverlib.PublicKeyNotValid, ExpiredTS: k.ExpiredTS}
	}
}

// notaryFetcher asks a trusted key server for other servers' keys. Its
// answers must carry the notary's signature, checked against the
// notary's own keys (fetched directly, over TLS, on first use) as well as
// the origin's self-signature.
type notaryFetcher struct {
	notary spec.ServerName
	client gomatrixserverlib.KeyClient
	direct *directFetcher
	store  *storage.DB
	now    func() time.Time
}

func (n *notaryFetcher) FetcherName() string { return "notary " + string(n.notary) }

func (n *notaryFetcher) FetchKeys(ctx context.Context, requests map[lookupReq]spec.Timestamp) (map[lookupReq]lookupRes, error) {
	notaryKeys, err := n.notaryKeys(ctx)
	if err != nil {
		return nil, err
	}
	ask := map[lookupReq]spec.Timestamp{}
	for req, ts := range requests {
		if req.ServerName != n.notary {
			ask[req] = ts
		}
	}
	if len(ask) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	responses, err := n.client.LookupServerKeys(ctx, n.notary, ask)
	if err != nil {
		return nil, err
	}
	out := map[lookupReq]lookupRes{}
	for _, keys := range responses {
		if !signedByAny(n.notary, notaryKeys, keys.Raw) || checkKeys(keys.ServerName, keys) != nil {
			continue // a bad entry spoils only itself
		}
		_ = n.store.StoreKeyResponse(ctx, storage.KeyResponse{
			ServerName: string(keys.ServerName), Response: keys.Raw,
			ValidUntilTS: int64(keys.ValidUntilTS), FetchedTS: n.now().UnixMilli(),
		})
		addResults(keys, out)
	}
	return out, nil
}

func (n *notaryFetcher) notaryKeys(ctx context.Context) (map[gomatrixserverlib.KeyID]spec.Base64Bytes, error) {
	keys, err := n.direct.fetch(ctx, n.notary)
	if err != nil {
		return nil, fmt.Errorf("keys of notary %s: %w", n.notary, err)
	}
	out := map[gomatrixserverlib.KeyID]spec.Base64Bytes{}
	for id, k := range keys.VerifyKeys {
		out[id] = k.Key
	}
	return out, nil
}

func signedByAny(server spec.ServerName, keys map[gomatrixserverlib.KeyID]spec.Base64Bytes, message []byte) bool {
	for id, k := range keys {
		if gomatrixserverlib.VerifyJSON(string(server), id, []byte(k), message) == nil {
			return true
		}
	}
	return false
}
