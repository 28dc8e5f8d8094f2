package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestInputTextRejectsNULAndInvalidUTF8: a NUL byte or invalid UTF-8 in a
// path parameter, a query parameter or a JSON string is refused at the
// edge with 400 and a Matrix error on every route, never a 500 (acctDo
// fails on any 5xx) and never stored: PostgreSQL text columns cannot
// hold NUL, and a stored one would stop the consumers that copy it.
func TestInputTextRejectsNULAndInvalidUTF8(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("nul", "password123")
		tok := c.AccessToken
		v3 := inst.URL + "/_matrix/client/v3"
		me := url.PathEscape(string(inst.UserID("nul")))
		room, err := c.CreateRoom(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		rid := url.PathEscape(string(room.RoomID))

		// Path parameters: %00 and %ff%fe decode to bytes that are not
		// text.
		for _, bad := range []string{"%00", "a%00b", "%ff%fe"} {
			paths := []struct{ method, path string }{
				{"GET", "/devices/" + bad}, {"PUT", "/devices/" + bad}, {"DELETE", "/devices/" + bad},
				{"GET", "/user/" + me + "/account_data/" + bad}, {"PUT", "/user/" + me + "/account_data/" + bad},
				{"PUT", "/user/" + me + "/rooms/" + rid + "/account_data/" + bad},
				{"GET", "/profile/" + bad}, {"GET", "/profile/" + me + "/" + bad},
				{"PUT", "/rooms/" + rid + "/send/m.room.message/" + bad},
				{"PUT", "/rooms/" + rid + "/send/" + bad + "/txn1"},
				{"PUT", "/rooms/" + rid + "/state/m.room.topic/" + bad},
				{"GET", "/rooms/" + rid + "/event/" + bad}, {"GET", "/rooms/" + rid + "/context/" + bad},
				{"POST", "/rooms/" + rid + "/receipt/m.read/" + bad},
				{"PUT", "/rooms/" + rid + "/typing/" + bad},
				{"PUT", "/sendToDevice/" + bad + "/txn1"},
				{"GET", "/directory/room/" + bad}, {"POST", "/join/" + bad},
				{"GET", "/pushrules/global/override/" + bad}, {"PUT", "/pushrules/global/override/" + bad},
				{"GET", "/user/" + me + "/filter/" + bad},
				{"GET", "/room_keys/version/" + bad},
			}
			for _, p := range paths {
				r := acctDo(t, p.method, v3+p.path, tok, `{}`)
				if r.Status != http.StatusBadRequest || r.errcode() != "M_INVALID_PARAM" {
					t.Errorf("%s %s: got %d %s, want 400 M_INVALID_PARAM", p.method, p.path, r.Status, r.Raw)
				}
			}
		}

		// Query parameters.
		for _, q := range []string{"/rooms/" + rid + "/messages?dir=b&from=%00", "/sync?since=%ff", "/sync?filter=%00",
			"/publicRooms?server=%00", "/register/available?username=a%00", "/rooms/" + rid + "/messages?dir=b&filter=%ff%fe"} {
			r := acctDo(t, "GET", v3+q, tok, nil)
			if r.Status != http.StatusBadRequest || r.errcode() != "M_INVALID_PARAM" {
				t.Errorf("GET %s: got %d %s, want 400 M_INVALID_PARAM", q, r.Status, r.Raw)
			}
		}

		// JSON strings (values and keys) carrying an escaped NUL.
		bodies := []struct{ method, path, body string }{
			{"POST", "/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"nul"},"password":"password123","initial_device_display_name":"\u0000"}`},
			{"PUT", "/devices/" + c.DeviceID.String(), `{"display_name":"a\u0000b"}`},
			{"PUT", "/profile/" + me + "/displayname", `{"displayname":"\u0000"}`},
			{"PUT", "/user/" + me + "/account_data/m.x", `{"k\u0000":1}`},
			{"PUT", "/rooms/" + rid + "/send/m.room.message/t1", `{"msgtype":"m.text","body":"x","m.relates_to":{"rel_type":"m.thread","event_id":"$a\u0000b"}}`},
			{"PUT", "/rooms/" + rid + "/state/m.room.topic", `{"topic":"\u0000"}`},
			{"POST", "/createRoom", `{"name":"\u0000"}`},
			{"POST", "/user/" + me + "/filter", `{"room":{"rooms":["!\u0000:x"]}}`},
			{"PUT", "/sendToDevice/m.x/t2", `{"messages":{"` + string(inst.UserID("nul")) + `":{"*":{"a":"\u0000"}}}}`},
			{"POST", "/keys/upload", `{"one_time_keys":{"signed_curve25519:\u0000":"x"}}`},
		}
		for _, b := range bodies {
			r := acctDo(t, b.method, v3+b.path, tok, b.body)
			if r.Status != http.StatusBadRequest || r.errcode() != "M_BAD_JSON" {
				t.Errorf("%s %s %s: got %d %s, want 400 M_BAD_JSON", b.method, b.path, b.body, r.Status, r.Raw)
			}
		}

		// Nothing was stored that stops /sync: a later message arrives.
		syncSend(t, c, room.RoomID, "after")
		syncUntil(t, c, "", 30*time.Second, func(resp *mautrix.RespSync) bool {
			jr, ok := resp.Rooms.Join[room.RoomID]
			return ok && strings.Contains(strings.Join(syncBodies(jr.Timeline.Events), "|"), "after")
		})
	})
}

// TestInputHeadersMustBeText: a header that is stored (User-Agent, kept
// with the device's last-seen data; a media upload's Content-Type) with
// bytes that are not UTF-8 is refused like any other input, not a 500.
func TestInputHeadersMustBeText(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("agent", "password123")
		req, err := http.NewRequest("GET", inst.URL+"/_matrix/client/v3/account/whoami", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.AccessToken)
		req.Header.Set("User-Agent", "bot\xff\xfe")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("User-Agent not UTF-8: got %d, want 400", resp.StatusCode)
		}
		if _, err := c.Whoami(t.Context()); err != nil {
			t.Fatalf("the device works after: %v", err)
		}
	})
}
