package e2e

import (
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// Key backup: versions, sessions with the spec's replacement rules,
// etag/count, the wrong-version error and deletion.
func TestKeysBackup(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		const alg = "m.megolm_backup.v1.curve25519-aes-sha2"
		acctExpect(t, "no backup yet", keysDo(t, alice, "GET", "/room_keys/version", nil), 404, "M_NOT_FOUND")
		acctExpect(t, "missing algorithm", keysDo(t, alice, "POST", "/room_keys/version", map[string]any{"auth_data": map[string]any{}}), 400, "M_MISSING_PARAM")
		v1 := keysDo(t, alice, "POST", "/room_keys/version", map[string]any{"algorithm": alg, "auth_data": map[string]any{"public_key": "abc"}}).str("version")
		if v1 == "" {
			t.Fatal("no version")
		}
		session := func(idx int, verified bool, data string) map[string]any {
			return map[string]any{"first_message_index": idx, "forwarded_count": 0, "is_verified": verified, "session_data": map[string]any{"d": data}}
		}
		put := keysDo(t, alice, "PUT", "/room_keys/keys?version="+v1, map[string]any{"rooms": map[string]any{
			"!r:x": map[string]any{"sessions": map[string]any{"s1": session(5, false, "first"), "s2": session(0, false, "two")}},
		}})
		if put.Body["count"] != float64(2) || put.str("etag") == "" {
			t.Fatalf("put: %s", put.Raw)
		}
		// A worse copy is ignored, a better one replaces.
		keysDo(t, alice, "PUT", "/room_keys/keys/!r:x/s1?version="+v1, session(9, false, "worse"))
		got := keysDo(t, alice, "GET", "/room_keys/keys/!r:x/s1?version="+v1, nil)
		if got.Body["session_data"].(map[string]any)["d"] != "first" {
			t.Fatalf("worse session replaced the better: %s", got.Raw)
		}
		keysDo(t, alice, "PUT", "/room_keys/keys/!r:x?version="+v1, map[string]any{"sessions": map[string]any{"s1": session(1, false, "better")}})
		got = keysDo(t, alice, "GET", "/room_keys/keys/!r:x?version="+v1, nil)
		if got.Body["sessions"].(map[string]any)["s1"].(map[string]any)["session_data"].(map[string]any)["d"] != "better" {
			t.Fatalf("better session not stored: %s", got.Raw)
		}
		all := keysDo(t, alice, "GET", "/room_keys/keys?version="+v1, nil)
		if len(all.Body["rooms"].(map[string]any)["!r:x"].(map[string]any)["sessions"].(map[string]any)) != 2 {
			t.Fatalf("all keys: %s", all.Raw)
		}
		info := keysDo(t, alice, "GET", "/room_keys/version", nil)
		if info.str("version") != v1 || info.Body["count"] != float64(2) || info.str("algorithm") != alg {
			t.Fatalf("version info: %s", info.Raw)
		}
		acctExpect(t, "missing session", keysDo(t, alice, "GET", "/room_keys/keys/!r:x/nope?version="+v1, nil), 404, "M_NOT_FOUND")
		acctExpect(t, "missing version param", keysDo(t, alice, "GET", "/room_keys/keys", nil), 400, "M_MISSING_PARAM")
		acctExpect(t, "unknown version", keysDo(t, alice, "GET", "/room_keys/keys?version=99", nil), 404, "M_NOT_FOUND")

		// Update auth_data; algorithm must match.
		if r := keysDo(t, alice, "PUT", "/room_keys/version/"+v1, map[string]any{"algorithm": alg, "auth_data": map[string]any{"public_key": "def"}}); r.Status != 200 {
			t.Fatalf("update: %s", r.Raw)
		}
		acctExpect(t, "algorithm change", keysDo(t, alice, "PUT", "/room_keys/version/"+v1, map[string]any{"algorithm": "other", "auth_data": map[string]any{}}), 400, "M_INVALID_PARAM")

		// A new version makes writes to the old one fail.
		v2 := keysDo(t, alice, "POST", "/room_keys/version", map[string]any{"algorithm": alg, "auth_data": map[string]any{}}).str("version")
		wrong := keysDo(t, alice, "PUT", "/room_keys/keys/!r:x/s3?version="+v1, session(0, false, "x"))
		acctExpect(t, "old version write", wrong, 403, "M_WRONG_ROOM_KEYS_VERSION")
		if wrong.str("current_version") != v2 {
			t.Fatalf("current_version: %s", wrong.Raw)
		}
		del := keysDo(t, alice, "DELETE", "/room_keys/keys/!r:x/s1?version="+v1, nil)
		if del.Body["count"] != float64(1) {
			t.Fatalf("delete session: %s", del.Raw)
		}
		if r := keysDo(t, alice, "DELETE", "/room_keys/version/"+v2, nil); r.Status != 200 {
			t.Fatalf("delete version: %s", r.Raw)
		}
		if info := keysDo(t, alice, "GET", "/room_keys/version", nil); info.str("version") != v1 {
			t.Fatalf("after deleting v2, current is %s", info.Raw)
		}
		acctExpect(t, "deleted version", keysDo(t, alice, "GET", "/room_keys/version/"+v2, nil), 404, "M_NOT_FOUND")
	})
}
