package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

var roomsCtx = context.Background()

// roomsRaw is a decoded response to a hand-made request.
type roomsRaw struct {
	Status int
	Body   map[string]any
}

func (r roomsRaw) errcode() string { s, _ := r.Body["errcode"].(string); return s }

var roomsHTTP = &http.Client{Timeout: 30 * time.Second}

// roomsDo sends a request with c's token; responses must be JSON, never 5xx.
func roomsDo(t testing.TB, c *mautrix.Client, method, path string, body any) roomsRaw {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		must(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.HomeserverURL.String()+path, rd)
	must(t, err)
	if c.AccessToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	}
	resp, err := roomsHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read response: %v", method, path, err)
	}
	out := roomsRaw{Status: resp.StatusCode}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s %s: non-JSON response %d: %q", method, path, resp.StatusCode, data)
	}
	out.Body, _ = v.(map[string]any)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: server error %d: %s", method, path, resp.StatusCode, data)
	}
	return out
}

// roomsErrCode extracts the Matrix errcode from a mautrix error.
func roomsErrCode(err error) string {
	var he mautrix.HTTPError
	if errors.As(err, &he) && he.RespError != nil {
		return he.RespError.ErrCode
	}
	return ""
}

// roomsExpectErr fails unless err is a Matrix error with errcode.
func roomsExpectErr(t testing.TB, err error, errcode, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: expected %s, got success", what, errcode)
	}
	if got := roomsErrCode(err); got != errcode {
		t.Fatalf("%s: expected %s, got %q (%v)", what, errcode, got, err)
	}
}

// roomsNoErr fails the test on err.
func roomsNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// roomsCreate creates a room and returns its ID.
func roomsCreate(t testing.TB, c *mautrix.Client, req *mautrix.ReqCreateRoom) id.RoomID {
	t.Helper()
	resp, err := c.CreateRoom(roomsCtx, req)
	roomsNoErr(t, err)
	return resp.RoomID
}

// roomsStateContent reads one state event's content as a map.
func roomsStateContent(t testing.TB, c *mautrix.Client, roomID id.RoomID, evType, stateKey string) map[string]any {
	t.Helper()
	r := roomsDo(t, c, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/"+evType+"/"+stateKey, nil)
	if r.Status != 200 {
		t.Fatalf("state %s/%s: %d %v", evType, stateKey, r.Status, r.Body)
	}
	return r.Body
}
