package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

// acctResp is a raw HTTP response with its JSON body decoded.
type acctResp struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (r acctResp) errcode() string { s, _ := r.Body["errcode"].(string); return s }
func (r acctResp) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

var acctHTTPClient = &http.Client{Timeout: 3 * time.Minute} // generous: bcrypt under -race is slow

// acctDo sends body (a string or []byte as-is, anything else as JSON) to
// url with an optional access token. Every response must be JSON and
// never a 5xx.
func acctDo(t testing.TB, method, url, token string, body any) acctResp {
	t.Helper()
	r, err := acctTry(method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// acctTry is acctDo returning its failure (for use off the test goroutine).
func acctTry(method, url, token string, body any) (acctResp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return acctResp{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return acctResp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := acctHTTPClient.Do(req)
	if err != nil {
		return acctResp{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return acctResp{}, fmt.Errorf("%s %s: read response: %w", method, url, err)
	}
	out := acctResp{Status: res.StatusCode, Raw: string(data)}
	if res.StatusCode >= 500 {
		return out, fmt.Errorf("%s %s: server error %d: %s", method, url, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, &out.Body); err != nil {
		return out, fmt.Errorf("%s %s: response %d is not a JSON object: %q", method, url, res.StatusCode, data)
	}
	return out, nil
}

// acctExpect fails unless r has the status and errcode.
func acctExpect(t testing.TB, what string, r acctResp, status int, errcode string) {
	t.Helper()
	if r.Status != status || r.errcode() != errcode {
		t.Fatalf("%s: got %d %s (%s), want %d %s", what, r.Status, r.errcode(), r.Raw, status, errcode)
	}
}

// acctMatrixErr fails unless err is a Matrix error with errcode.
func acctMatrixErr(t testing.TB, what string, err error, errcode string) {
	t.Helper()
	var he mautrix.HTTPError
	if !errors.As(err, &he) || he.RespError == nil || he.RespError.ErrCode != errcode {
		t.Fatalf("%s: got %v, want %s", what, err, errcode)
	}
}

// acctRegister registers with raw HTTP via m.login.dummy UIA and returns
// the final response.
func acctRegister(t testing.TB, base string, body map[string]any) acctResp {
	t.Helper()
	r, err := acctTryRegister(base, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func acctTryRegister(base string, body map[string]any) (acctResp, error) {
	first, err := acctTry("POST", base+"/_matrix/client/v3/register", "", body)
	if err != nil || first.Status != http.StatusUnauthorized || first.str("session") == "" {
		return first, err
	}
	withAuth := map[string]any{}
	for k, v := range body {
		withAuth[k] = v
	}
	withAuth["auth"] = map[string]any{"type": "m.login.dummy", "session": first.str("session")}
	return acctTry("POST", base+"/_matrix/client/v3/register", "", withAuth)
}

// acctPasswordAuth is an m.login.password UIA dict.
func acctPasswordAuth(user, password, session string) map[string]any {
	return map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": user},
		"password":   password,
		"session":    session,
	}
}

// acctLogin logs in with raw HTTP.
func acctLogin(t testing.TB, base, user, password string, extra map[string]any) acctResp {
	t.Helper()
	body := map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": user},
		"password":   password,
	}
	for k, v := range extra {
		body[k] = v
	}
	return acctDo(t, "POST", base+"/_matrix/client/v3/login", "", body)
}
