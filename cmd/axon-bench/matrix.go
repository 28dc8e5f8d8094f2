package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Typed wrappers for the few Client-Server API endpoints the scenarios use.

const csPrefix = "/_matrix/client/v3"

// account is a logged-in device; the JSON shape matches /register and /login.
type account struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	DeviceID    string `json:"device_id"`
}

// syncResponse keeps only what the scenarios read from /sync.
type syncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[string]struct {
			Summary struct {
				JoinedMembers *int `json:"m.joined_member_count"`
			} `json:"summary"`
			Timeline struct {
				Limited bool `json:"limited"`
				Events  []struct {
					Type    string `json:"type"`
					Sender  string `json:"sender"`
					Content struct {
						Body string `json:"body"`
					} `json:"content"`
				} `json:"events"`
			} `json:"timeline"`
		} `json:"join"`
	} `json:"rooms"`
}

// syncParams are the /sync query parameters; zero values are omitted.
type syncParams struct {
	since   string
	filter  string // filter ID or inline JSON
	timeout time.Duration
}

// versions is the cheapest unauthenticated call; used as a reachability check.
func (c *client) versions(ctx context.Context) error {
	var v struct {
		Versions []string `json:"versions"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/_matrix/client/versions", out: &v}); err != nil {
		return err
	}
	if len(v.Versions) == 0 {
		return fmt.Errorf("/_matrix/client/versions lists no versions: not a Matrix homeserver?")
	}
	return nil
}

func (c *client) login(ctx context.Context, userID, password string) (*account, error) {
	var acc account
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: csPrefix + "/login", out: &acc,
		body: map[string]any{
			"type":                        "m.login.password",
			"identifier":                  map[string]string{"type": "m.id.user", "user": userID},
			"password":                    password,
			"initial_device_display_name": "axon-bench",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", userID, err)
	}
	return &acc, nil
}

func (c *client) createRoom(ctx context.Context, a *account, name string) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: csPrefix + "/createRoom", token: a.AccessToken, out: &out,
		body: map[string]any{"preset": "public_chat", "name": name},
	})
	if err != nil {
		return "", fmt.Errorf("createRoom: %w", err)
	}
	return out.RoomID, nil
}

func (c *client) joinRoom(ctx context.Context, a *account, roomID string) error {
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: csPrefix + "/rooms/" + url.PathEscape(roomID) + "/join",
		token: a.AccessToken, body: map[string]any{},
	})
	if err != nil {
		return fmt.Errorf("join %s: %w", roomID, err)
	}
	return nil
}

func (c *client) sendText(ctx context.Context, a *account, roomID, txnID, body string) (response, error) {
	return c.do(ctx, request{
		method: http.MethodPut, token: a.AccessToken,
		path: csPrefix + "/rooms/" + url.PathEscape(roomID) + "/send/m.room.message/" + url.PathEscape(txnID),
		body: map[string]string{"msgtype": "m.text", "body": body},
	})
}

// sync calls /sync; out may be nil to skip decoding (initial syncs can be
// megabytes and decoding them would load the client, not the server).
// Long polls get their poll time on top of the client's request timeout.
func (c *client) sync(ctx context.Context, a *account, p syncParams, out *syncResponse) (response, error) {
	q := url.Values{}
	if p.since != "" {
		q.Set("since", p.since)
	}
	if p.filter != "" {
		q.Set("filter", p.filter)
	}
	q.Set("timeout", strconv.FormatInt(p.timeout.Milliseconds(), 10))
	r := request{method: http.MethodGet, path: csPrefix + "/sync", query: q, token: a.AccessToken, timeout: c.timeout + p.timeout}
	if out != nil {
		r.out = out
	}
	return c.do(ctx, r)
}

// lightFilter keeps /sync small so measurements aren't dominated by
// unrelated payload: no presence, account data, state or ephemeral events;
// only the last timelineLimit timeline events of the given rooms (all rooms
// when nil), restricted to types when any are given.
func lightFilter(rooms []string, timelineLimit int, types ...string) map[string]any {
	none := map[string]any{"not_types": []string{"*"}}
	timeline := map[string]any{"limit": timelineLimit}
	if len(types) > 0 {
		timeline["types"] = types
	}
	room := map[string]any{
		"timeline":     timeline,
		"state":        map[string]any{"not_types": []string{"*"}, "lazy_load_members": true},
		"ephemeral":    none,
		"account_data": none,
	}
	if rooms != nil {
		room["rooms"] = rooms
	}
	return map[string]any{"presence": none, "account_data": none, "room": room}
}

// uploadFilter stores filter and returns its ID; servers that don't
// implement the filter API get the filter inline, which the spec also allows.
func (c *client) uploadFilter(ctx context.Context, a *account, filter map[string]any) (string, error) {
	var out struct {
		FilterID string `json:"filter_id"`
	}
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: csPrefix + "/user/" + url.PathEscape(a.UserID) + "/filter",
		token: a.AccessToken, body: filter, out: &out,
	})
	if err == nil && out.FilterID != "" {
		return out.FilterID, nil
	}
	if err != nil && asAPIError(err) == nil {
		return "", fmt.Errorf("uploading filter: %w", err) // transport failure, not "unsupported"
	}
	inline, merr := json.Marshal(filter)
	if merr != nil {
		return "", merr
	}
	return string(inline), nil
}
