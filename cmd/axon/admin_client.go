package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminClient calls a running server's admin API with an admin's token.
type adminClient struct {
	base  string // e.g. http://127.0.0.1:8008
	token string
	http  *http.Client
	// serverName is learned from whoami, to turn localparts into user IDs.
	serverName string
}

func newAdminClient(base, token string) *adminClient {
	return &adminClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 60 * time.Second}}
}

// do sends body as JSON and decodes the JSON answer into out (if not nil).
// A Matrix error becomes an error naming errcode and message.
func (c *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var merr struct{ ErrCode, Error string }
		if json.Unmarshal(data, &merr) == nil && merr.ErrCode != "" {
			return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, merr.ErrCode, merr.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: bad response: %w", method, path, err)
	}
	return nil
}

// userID turns a localpart into a user ID of the server (IDs pass through).
func (c *adminClient) userID(ctx context.Context, s string) (string, error) {
	if strings.HasPrefix(s, "@") {
		return s, nil
	}
	if c.serverName == "" {
		var who struct {
			UserID string `json:"user_id"`
		}
		if err := c.do(ctx, "GET", "/_matrix/client/v3/account/whoami", nil, &who); err != nil {
			return "", err
		}
		_, c.serverName, _ = strings.Cut(who.UserID, ":")
	}
	return "@" + s + ":" + c.serverName, nil
}

func esc(s string) string { return url.PathEscape(s) }
