package federationapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	ksapi "github.com/axon-hs/axon/keyserver/api"
)

// remoteKeysTimeout bounds a key request when the caller's context has
// no deadline (the keyserver normally sets one per server).
const remoteKeysTimeout = 10 * time.Second

// QueryRemoteKeys asks server for its users' device and cross-signing
// keys (POST /user/keys/query). The answer is kept as raw JSON: the key
// objects are signed, so they must reach clients byte for byte.
func (f *FederationAPI) QueryRemoteKeys(ctx context.Context, server string, deviceKeys map[string][]string) (*ksapi.QueryKeysResponse, error) {
	body := map[string][]string{}
	for u, devs := range deviceKeys {
		if devs == nil {
			devs = []string{} // the spec wants a list: empty means all devices
		}
		body[u] = devs
	}
	var resp ksapi.QueryKeysResponse
	if err := f.remoteKeyRequest(ctx, server, "/_matrix/federation/v1/user/keys/query", map[string]any{"device_keys": body}, &resp); err != nil {
		return nil, err
	}
	dropForeignKeys(&resp)
	return &resp, nil
}

// dropForeignKeys removes keys filed under a user or device they do not
// name, so a server cannot pass one device's keys off as another's, and
// user-signing keys, which are never shared between servers.
func dropForeignKeys(resp *ksapi.QueryKeysResponse) {
	for u, devs := range resp.DeviceKeys {
		for d, k := range devs {
			if !keysOwnedBy(k, u, d) {
				delete(devs, d)
			}
		}
	}
	for _, m := range []map[string]json.RawMessage{resp.MasterKeys, resp.SelfSigningKeys} {
		for u, k := range m {
			if !keysOwnedBy(k, u, "") {
				delete(m, u)
			}
		}
	}
	resp.UserSigningKeys = nil
}

// ClaimRemoteKeys claims one-time keys of server's devices (POST
// /user/keys/claim).
func (f *FederationAPI) ClaimRemoteKeys(ctx context.Context, server string, oneTimeKeys map[string]map[string]string) (*ksapi.ClaimKeysResponse, error) {
	var resp ksapi.ClaimKeysResponse
	if err := f.remoteKeyRequest(ctx, server, "/_matrix/federation/v1/user/keys/claim", map[string]any{"one_time_keys": oneTimeKeys}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// remoteKeyRequest sends a signed POST to server and decodes the answer.
func (f *FederationAPI) remoteKeyRequest(ctx context.Context, server, path string, body, out any) error {
	if _, _, ok := spec.ParseAndValidateServerName(spec.ServerName(server)); !ok || spec.ServerName(server) == f.id.ServerName {
		return fedErr(400, "M_INVALID_PARAM", "cannot ask server %q for keys", server)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, remoteKeysTimeout)
		defer cancel()
	}
	r := fclient.NewFederationRequest("POST", f.id.ServerName, spec.ServerName(server), path)
	if err := r.SetContent(body); err != nil {
		return err
	}
	if err := r.Sign(f.id.ServerName, f.id.KeyID, f.id.PrivateKey); err != nil {
		return err
	}
	req, err := r.HTTPRequest()
	if err != nil {
		return err
	}
	if err := f.Client.DoRequestAndParseResponse(ctx, req, out); err != nil {
		return remoteError(spec.ServerName(server), err)
	}
	return nil
}
