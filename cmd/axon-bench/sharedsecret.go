package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
)

// The Synapse-compatible shared-secret registration admin API. It bypasses
// UIA and (on Synapse) registration rate limits, so it is the fastest way to
// create many benchmark users.

const sharedSecretPath = "/_synapse/admin/v1/register"

// sharedSecretMAC is HMAC-SHA1(secret, nonce\0user\0password\0admin|notadmin)
// in hex, as the admin API expects.
func sharedSecretMAC(secret, nonce, user, password string, admin bool) string {
	m := hmac.New(sha1.New, []byte(secret))
	role := "notadmin"
	if admin {
		role = "admin"
	}
	for i, part := range []string{nonce, user, password, role} {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(part))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// registerSharedSecret fetches a nonce and registers username as a non-admin.
// The returned response carries the summed latency of both round trips.
func (c *client) registerSharedSecret(ctx context.Context, secret, username, password string) (*account, response, error) {
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	res1, err := c.do(ctx, request{method: http.MethodGet, path: sharedSecretPath, out: &nonce})
	if err != nil {
		if ae := asAPIError(err); ae != nil {
			return nil, res1, fmt.Errorf("%w: shared-secret registration unavailable: %v", errRegistrationRefused, ae)
		}
		return nil, res1, err
	}
	var acc account
	res2, err := c.do(ctx, request{
		method: http.MethodPost, path: sharedSecretPath, out: &acc,
		body: map[string]any{
			"nonce":    nonce.Nonce,
			"username": username,
			"password": password,
			"admin":    false,
			"mac":      sharedSecretMAC(secret, nonce.Nonce, username, password, false),
		},
	})
	res2.latency += res1.latency
	if ae := asAPIError(err); ae != nil && ae.Status == http.StatusForbidden {
		return nil, res2, fmt.Errorf("%w: shared secret rejected (does --shared-secret match the server's?): %v", errRegistrationRefused, ae)
	}
	if err != nil {
		return nil, res2, err
	}
	return &acc, res2, nil
}
