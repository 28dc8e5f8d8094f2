package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/server/testserver"
)

// Two real Axon instances over loopback TLS: keys are published and
// countersigned, signed requests between them are accepted, unsigned
// ones refused, and both hold after a restart.
func TestFederationKeysAndRequestAuth(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		optsA, optsB := opts, opts
		optsA.Configure, optsB.Configure = testserver.Federated(t), testserver.Federated(t)
		a, b := testserver.Start(t, optsA), testserver.Start(t, optsB)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		nameA, nameB := spec.ServerName(a.Cfg.ServerName), spec.ServerName(b.Cfg.ServerName)
		https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs

		// Published keys are self-signed and for the right server.
		serverKeys := func(inst *testserver.Instance) gomatrixserverlib.ServerKeys {
			t.Helper()
			resp, err := https.Get(inst.FederationURL() + "/_matrix/key/v2/server")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var keys gomatrixserverlib.ServerKeys
			if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
				t.Fatal(err)
			}
			if checks, _ := gomatrixserverlib.CheckKeys(nameA, time.Now(), keys); !checks.AllChecksOK {
				t.Fatalf("A's key response fails checks: %+v", checks)
			}
			if len(keys.VerifyKeys) == 0 {
				t.Fatal("A publishes no verify key")
			}
			return keys
		}
		keys := serverKeys(a)

		sendEmptyTxn := func(id string) error {
			_, err := b.Server.Fed.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
				TransactionID: gomatrixserverlib.TransactionID(id), Origin: nameB, Destination: nameA, PDUs: []json.RawMessage{},
			})
			return err
		}
		// B signs; A fetches B's key over TLS and verifies.
		if err := sendEmptyTxn("e2e-1"); err != nil {
			t.Fatalf("signed transaction refused: %v", err)
		}
		// No signature: 401 M_UNAUTHORIZED.
		req, err := http.NewRequest("PUT", a.FederationURL()+"/_matrix/federation/v1/send/e2e-2", bytes.NewReader([]byte(`{"pdus":[]}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := https.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var merr struct{ ErrCode string }
		decErr := json.NewDecoder(resp.Body).Decode(&merr)
		resp.Body.Close()
		if decErr != nil {
			t.Fatalf("unsigned request: error body: %v", decErr)
		}
		if resp.StatusCode != http.StatusUnauthorized || merr.ErrCode != "M_UNAUTHORIZED" {
			t.Fatalf("unsigned request: %d %s", resp.StatusCode, merr.ErrCode)
		}

		// A as notary for B's keys, countersigned by A.
		res, err := b.Server.Fed.Client.LookupServerKeys(ctx, nameA, map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp{
			{ServerName: nameB}: spec.AsTimestamp(time.Now()),
		})
		if err != nil || len(res) != 1 {
			t.Fatalf("notary query: %d results, %v", len(res), err)
		}
		for keyID, key := range keys.VerifyKeys {
			if err := gomatrixserverlib.VerifyJSON(string(nameA), keyID, []byte(key.Key), res[0].Raw); err != nil {
				t.Fatalf("notary answer not signed by A: %v", err)
			}
		}

		// After a restart A publishes the same key (same ID, same public
		// key: a regenerated one would break every server that cached it)...
		a = a.Restart()
		after := serverKeys(a)
		if len(after.VerifyKeys) != len(keys.VerifyKeys) {
			t.Fatalf("A's keys before restart %v, after %v", keys.VerifyKeys, after.VerifyKeys)
		}
		for keyID, key := range keys.VerifyKeys {
			if got, ok := after.VerifyKeys[keyID]; !ok || !bytes.Equal(got.Key, key.Key) {
				t.Fatalf("key %s before restart %s, after %v (present %v)", keyID, key.Key.Encode(), got.Key.Encode(), ok)
			}
		}
		if keyID := gomatrixserverlib.KeyID(a.Cfg.KeyID); after.VerifyKeys[keyID].Key == nil {
			t.Fatalf("A signs with %s, which it does not publish", keyID)
		}
		// ...and signed requests still pass both ways.
		if err := sendEmptyTxn("e2e-3"); err != nil {
			t.Fatalf("after restart: %v", err)
		}
		if _, err := a.Server.Fed.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
			TransactionID: "e2e-4", Origin: nameA, Destination: nameB, PDUs: []json.RawMessage{},
		}); err != nil {
			t.Fatalf("A's request after restart refused by B: %v", err)
		}
	})
}
