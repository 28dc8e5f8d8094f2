package keys

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

func newIdentity(name string) *Identity {
	_, priv, _ := ed25519.GenerateKey(nil)
	return &Identity{ServerName: spec.ServerName(name), KeyID: "ed25519:k1", PrivateKey: priv}
}

// fakeNet answers key requests as if each identity were a real server.
type fakeNet struct {
	servers  map[spec.ServerName]*Identity
	notary   *Identity // answers LookupServerKeys when set
	down     map[spec.ServerName]bool
	direct   atomic.Int32
	notaries atomic.Int32
}

func (f *fakeNet) GetServerKeys(_ context.Context, s spec.ServerName) (gomatrixserverlib.ServerKeys, error) {
	f.direct.Add(1)
	id, ok := f.servers[s]
	if !ok || f.down[s] {
		return gomatrixserverlib.ServerKeys{}, errors.New("unreachable")
	}
	raw, err := id.ServerKeys(time.Now())
	if err != nil {
		return gomatrixserverlib.ServerKeys{}, err
	}
	var keys gomatrixserverlib.ServerKeys
	err = json.Unmarshal(raw, &keys)
	return keys, err
}

func (f *fakeNet) LookupServerKeys(_ context.Context, notary spec.ServerName, reqs map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp) ([]gomatrixserverlib.ServerKeys, error) {
	f.notaries.Add(1)
	if f.notary == nil || notary != f.notary.ServerName {
		return nil, errors.New("not a notary")
	}
	var out []gomatrixserverlib.ServerKeys
	for req := range reqs {
		id, ok := f.servers[req.ServerName]
		if !ok {
			continue
		}
		raw, err := id.ServerKeys(time.Now())
		if err != nil {
			return nil, err
		}
		signed, err := f.notary.Sign(raw)
		if err != nil {
			return nil, err
		}
		var keys gomatrixserverlib.ServerKeys
		if err := json.Unmarshal(signed, &keys); err != nil {
			return nil, err
		}
		out = append(out, keys)
	}
	return out, nil
}

func signedBy(t *testing.T, id *Identity) []byte {
	t.Helper()
	msg, err := id.Sign([]byte(`{"hello":"world"}`))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func verify(t *testing.T, r *Ring, server spec.ServerName, msg []byte) error {
	t.Helper()
	res, err := r.VerifyJSONs(context.Background(), []gomatrixserverlib.VerifyJSONRequest{{
		ServerName: server, AtTS: spec.AsTimestamp(time.Now()), Message: msg,
		ValidityCheckingFunc: gomatrixserverlib.StrictValiditySignatureCheck,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Error
}

func forEach(t *testing.T, fn func(t *testing.T, store *storage.DB)) {
	storagetest.ForEachBackendWith(t, storage.Component, storage.Migrations, storage.New, fn)
}

func TestOwnServerKeys(t *testing.T) {
	id := newIdentity("me.org")
	raw, err := id.ServerKeys(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var keys gomatrixserverlib.ServerKeys
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	if err := checkKeys("me.org", keys); err != nil {
		t.Fatal(err)
	}
	if keys.ValidUntilTS.Time().Before(time.Now().Add(time.Hour)) {
		t.Fatalf("valid_until_ts too soon: %v", keys.ValidUntilTS.Time())
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if _, ok := generic["old_verify_keys"]; !ok {
		t.Fatal("old_verify_keys missing")
	}
}

func TestRingDirectAndCache(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		me, remote, liar := newIdentity("me.org"), newIdentity("remote.org"), newIdentity("liar.org")
		net := &fakeNet{servers: map[spec.ServerName]*Identity{"remote.org": remote}}
		ring := NewRing(me, store, net, nil)

		if err := verify(t, ring, "remote.org", signedBy(t, remote)); err != nil {
			t.Fatalf("valid signature rejected: %v", err)
		}
		if err := verify(t, ring, "remote.org", signedBy(t, remote)); err != nil {
			t.Fatal(err)
		}
		if n := net.direct.Load(); n != 1 {
			t.Fatalf("fetched keys %d times, want 1 (cached)", n)
		}
		// A fresh ring on the same store uses the stored keys.
		ring2 := NewRing(me, store, net, nil)
		if err := verify(t, ring2, "remote.org", signedBy(t, remote)); err != nil || net.direct.Load() != 1 {
			t.Fatalf("stored keys not used: %v, %d fetches", err, net.direct.Load())
		}
		// Someone else's key under remote.org's name is rejected.
		forged := newIdentity("remote.org")
		if err := verify(t, ring, "remote.org", signedBy(t, forged)); err == nil {
			t.Fatal("forged signature accepted")
		}
		// Our own signatures verify without any lookup.
		if err := verify(t, ring, "me.org", signedBy(t, me)); err != nil {
			t.Fatal(err)
		}
		// An unreachable server is not retried on every message.
		before := net.direct.Load()
		for i := 0; i < 3; i++ {
			if err := verify(t, ring, "liar.org", signedBy(t, liar)); err == nil {
				t.Fatal("unknown server's signature accepted")
			}
		}
		if got := net.direct.Load() - before; got != 1 {
			t.Fatalf("dead server asked %d times, want 1", got)
		}
	})
}

func TestRingNotary(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		me, remote, notary := newIdentity("me.org"), newIdentity("remote.org"), newIdentity("notary.org")
		net := &fakeNet{
			servers: map[spec.ServerName]*Identity{"remote.org": remote, "notary.org": notary},
			notary:  notary,
			down:    map[spec.ServerName]bool{"remote.org": true},
		}
		ring := NewRing(me, store, net, []string{"notary.org"})
		if err := verify(t, ring, "remote.org", signedBy(t, remote)); err != nil {
			t.Fatalf("notary path failed: %v", err)
		}
		if net.notaries.Load() != 1 {
			t.Fatalf("notary asked %d times", net.notaries.Load())
		}
		// A notary whose own key does not match its answers is ignored.
		store2 := store
		impostor := newIdentity("notary.org")
		net2 := &fakeNet{
			servers: map[spec.ServerName]*Identity{"remote.org": remote, "notary.org": notary},
			notary:  impostor,
			down:    map[spec.ServerName]bool{"remote.org": true},
		}
		other := newIdentity("other.org")
		net2.servers["other.org"] = other
		net2.down["other.org"] = true
		ring2 := NewRing(me, store2, net2, []string{"notary.org"})
		if err := verify(t, ring2, "other.org", signedBy(t, other)); err == nil {
			t.Fatal("answer signed by an impostor notary accepted")
		}
	})
}

func TestNotaryQuery(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		me, remote := newIdentity("me.org"), newIdentity("remote.org")
		net := &fakeNet{servers: map[spec.ServerName]*Identity{"remote.org": remote}}
		ring := NewRing(me, store, net, nil)
		got := ring.NotaryQuery(context.Background(), map[spec.ServerName]map[gomatrixserverlib.KeyID]gomatrixserverlib.PublicKeyNotaryQueryCriteria{
			"remote.org":  {},
			"me.org":      {},
			"unknown.org": {},
		})
		if len(got) != 2 {
			t.Fatalf("got %d responses, want 2", len(got))
		}
		for _, raw := range got {
			var keys gomatrixserverlib.ServerKeys
			if err := json.Unmarshal(raw, &keys); err != nil {
				t.Fatal(err)
			}
			if err := checkKeys(keys.ServerName, keys); err != nil {
				t.Fatalf("%s: %v", keys.ServerName, err)
			}
			if err := gomatrixserverlib.VerifyJSON("me.org", me.KeyID, me.PublicKey(), raw); err != nil {
				t.Fatalf("%s response not countersigned: %v", keys.ServerName, err)
			}
		}
		// The remote going down does not stop us serving what we have.
		net.down = map[spec.ServerName]bool{"remote.org": true}
		got = ring.NotaryQuery(context.Background(), map[spec.ServerName]map[gomatrixserverlib.KeyID]gomatrixserverlib.PublicKeyNotaryQueryCriteria{
			"remote.org": {"ed25519:k1": {MinimumValidUntilTS: spec.AsTimestamp(time.Now().Add(1000 * time.Hour))}},
		})
		if len(got) != 1 {
			t.Fatalf("stale response not served: %d", len(got))
		}
	})
}
