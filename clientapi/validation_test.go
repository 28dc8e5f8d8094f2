package clientapi

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
)

// errcodeOf is the Matrix error code of r ("" for nil).
func errcodeOf(r *httputil.JSONResponse) string {
	if r == nil {
		return ""
	}
	if me, ok := r.JSON.(*httputil.MatrixError); ok {
		return me.ErrCode
	}
	return fmt.Sprintf("HTTP %d", r.Code)
}

// The shared-secret MAC follows the Synapse admin API byte for byte; the
// expected values were computed independently (Python's hmac module).
func TestSharedSecretMAC(t *testing.T) {
	cases := []struct {
		req  sharedSecretRequest
		want string
	}{
		{sharedSecretRequest{Nonce: "abc", Username: "alice", Password: "pw", Admin: true}, "dc5ed98b283077684552e3f72d67f26b3366bf58"},
		{sharedSecretRequest{Nonce: "abc", Username: "bob", Password: "pw", UserType: "bot"}, "e825b511dceef6cf1faf4dcb2a6bc6e64ba37780"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(c.req.mac("secret")); got != c.want {
			t.Errorf("mac(%+v) = %s, want %s", c.req, got, c.want)
		}
	}
}

func TestNoncesAreSingleUseAndExpire(t *testing.T) {
	s := newNonceStore()
	n, _ := s.issue("ip1")
	if len(n) != 32 {
		t.Fatalf("issue: %q", n)
	}
	if other, _ := s.issue("ip1"); other == n {
		t.Fatal("two nonces alike")
	}
	if !s.use(n) {
		t.Fatal("fresh nonce refused")
	}
	if s.use(n) {
		t.Fatal("nonce accepted twice")
	}
	if s.use("never-issued") {
		t.Fatal("unknown nonce accepted")
	}
	old, _ := s.issue("ip1")
	s.m[old] = issuedNonce{ip: "ip1", exp: time.Now().Add(-time.Second)}
	if s.use(old) {
		t.Fatal("expired nonce accepted")
	}
}

// TestNoncesLimitedPerIP: one IP holding its cap of live nonces gets none
// (with the wait until its oldest expires), other IPs still do, and a
// used nonce frees its slot. Past the global bound the oldest nonce is
// dropped rather than everyone locked out.
func TestNoncesLimitedPerIP(t *testing.T) {
	s := newNonceStore()
	var first string
	for i := range maxNoncesPerIP {
		n, wait := s.issue("greedy")
		if n == "" {
			t.Fatalf("nonce %d refused (wait %s)", i, wait)
		}
		if i == 0 {
			first = n
		}
	}
	n, wait := s.issue("greedy")
	if n != "" || wait <= nonceTTL/2 || wait > nonceTTL {
		t.Fatalf("over the per-IP cap: nonce %q, wait %s", n, wait)
	}
	if n, _ := s.issue("other"); n == "" {
		t.Fatal("another IP refused")
	}
	if !s.use(first) {
		t.Fatal("a live nonce refused")
	}
	if n, _ := s.issue("greedy"); n == "" {
		t.Fatal("a used nonce did not free its slot")
	}

	s = newNonceStore()
	oldest, _ := s.issue("ip0")
	for i := 1; i < maxNonces+1; i++ {
		if n, _ := s.issue(fmt.Sprint("ip", i)); n == "" {
			t.Fatalf("nonce %d refused under the global bound", i)
		}
	}
	if len(s.m) != maxNonces {
		t.Fatalf("%d nonces kept, want the bound %d", len(s.m), maxNonces)
	}
	if s.use(oldest) {
		t.Fatal("the oldest nonce was not the one dropped")
	}
}

func TestCheckProfileValue(t *testing.T) {
	long := `"` + strings.Repeat("x", maxDisplayNameBytes+1) + `"`
	cases := []struct {
		key, value string
		want       string // "" accepted as is, "remove", or an error code
	}{
		{"displayname", `"Alice"`, ""},
		{"displayname", `""`, "remove"},
		{"displayname", `null`, "remove"},
		{"displayname", `42`, "M_BAD_JSON"},
		{"displayname", long, "M_INVALID_PARAM"},
		{"avatar_url", `"mxc://x/y"`, ""},
		{"avatar_url", `"https://x/y"`, ""}, // any string: the spec does not restrict it
		{"avatar_url", `"LemurLover"`, ""},
		{"avatar_url", `5`, "M_BAD_JSON"},
		{"avatar_url", `"` + strings.Repeat("a", 1001) + `"`, "M_INVALID_PARAM"},
		{"avatar_url", `null`, "remove"},
		{"m.tz", `"Europe/Paris"`, ""},
		{"m.tz", `{}`, "M_BAD_JSON"},
		{"org.example.custom", `{"any":"json"}`, ""}, // custom fields are the client's
	}
	for _, c := range cases {
		got, r := checkProfileValue(c.key, json.RawMessage(c.value))
		switch {
		case c.want == "" && (r != nil || string(got) != c.value):
			t.Errorf("%s=%s: got %s %s, want accepted", c.key, c.value, got, errcodeOf(r))
		case c.want == "remove" && (r != nil || got != nil):
			t.Errorf("%s=%s: got %s %s, want removal", c.key, c.value, got, errcodeOf(r))
		case c.want != "" && c.want != "remove" && errcodeOf(r) != c.want:
			t.Errorf("%s=%s: got %s %s, want %s", c.key, c.value, got, errcodeOf(r), c.want)
		}
	}
}

func TestUserAndDeviceIDShapes(t *testing.T) {
	users := map[string]bool{
		"@alice:example.org": true, "@a:b": true, "@alice:example.org:8448": true,
		"alice:example.org": false, "@alice": false, "@:example.org": false, "@alice:": false, "": false, "@": false,
	}
	for id, want := range users {
		_, _, ok := parseUserID(id)
		_, _, ok2 := parseUserIDParts(id)
		if ok != want || ok2 != want {
			t.Errorf("%q: parseUserID %v, parseUserIDParts %v, want %v", id, ok, ok2, want)
		}
	}
	if l, s, _ := parseUserID("@alice:example.org:8448"); l != "alice" || s != "example.org:8448" {
		t.Errorf("split %q %q", l, s)
	}
	devices := map[string]bool{
		"ABCDEF": true, "phone-1_ü": true, strings.Repeat("d", 255): true,
		"": false, strings.Repeat("d", 256): false, "with space": false, "tab\t": false, "nl\n": false, "del\x7f": false,
	}
	for id, want := range devices {
		if got := validDeviceID(id); got != want {
			t.Errorf("validDeviceID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestReadContent(t *testing.T) {
	cases := []struct {
		body, want, code string
	}{
		{`{"body":"hi"}`, `{"body":"hi"}`, ""},
		{``, `{}`, ""},
		{`   `, `{}`, ""},
		{`[1]`, ``, "M_BAD_JSON"},
		{`"text"`, ``, "M_BAD_JSON"},
		{`null`, ``, "M_BAD_JSON"},
		{` true `, ``, "M_BAD_JSON"},
		{`12`, ``, "M_BAD_JSON"},
		{` {"a":1} `, ` {"a":1} `, ""},
		{`{"a":1}x`, ``, "M_NOT_JSON"},
		{`{"a":`, ``, "M_NOT_JSON"},
		{"{\"a\":\"\xff\"}", ``, "M_NOT_JSON"},
		{`{"a":"` + strings.Repeat("x", maxEventContent) + `"}`, ``, "M_TOO_LARGE"},
	}
	for _, c := range cases {
		got, r := readContent(httptest.NewRequest("PUT", "/", strings.NewReader(c.body)))
		name := c.body
		if len(name) > 20 {
			name = name[:20] + "…"
		}
		if errcodeOf(r) != c.code || (c.code == "" && string(got) != c.want) {
			t.Errorf("body %q: got %s %s, want %s %s", name, got, errcodeOf(r), c.want, c.code)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b": [1, 2], "a": 1 }`, true},
		{`{"a":1}`, `{"a":1.0}`, true},
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{}`, `not json`, false},
	}
	for _, c := range cases {
		if got := jsonEqual(json.RawMessage(c.a), json.RawMessage(c.b)); got != c.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestSetProfileValue(t *testing.T) {
	content := map[string]any{"membership": "join", "displayname": "Old"}
	if !setProfileValue(content, "displayname", "New") || content["displayname"] != "New" {
		t.Fatalf("change: %v", content)
	}
	if setProfileValue(content, "displayname", "New") {
		t.Fatal("same value reported as a change")
	}
	if !setProfileValue(content, "displayname", "") || content["displayname"] != nil {
		t.Fatalf("removal: %v", content)
	}
	if setProfileValue(content, "avatar_url", "") {
		t.Fatal("removing an absent field reported as a change")
	}
	if content["membership"] != "join" {
		t.Fatalf("other fields touched: %v", content)
	}
}
