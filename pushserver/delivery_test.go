package pushserver

import (
	"encoding/json"
	"testing"

	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

func TestNotificationPayload(t *testing.T) {
	p := &storage.Pusher{AppID: "app", PushKey: "k", PushKeyTS: 7, Data: json.RawMessage(`{"url":"https://gw/_matrix/push/v1/notify","format":"event_id_only","x":1}`)}
	n := &syncapi.PushNotification{EventID: "$e", RoomID: "!r", Type: "m.room.message", Sender: "@a:x", Content: json.RawMessage(`{"body":"hi"}`)}
	body, _ := json.Marshal(eventNotification(p, n, syncapi.PushCounts{Unread: 3}))
	want := `{"notification":{"event_id":"$e","room_id":"!r","prio":"low","counts":{"unread":3},"devices":[{"app_id":"app","pushkey":"k","pushkey_ts":7,"data":{"format":"event_id_only","x":1}}]}}`
	if string(body) != want {
		t.Fatalf("event_id_only body\n got %s\nwant %s", body, want)
	}
	n.Tweaks = map[string]json.RawMessage{"sound": json.RawMessage(`"default"`)}
	if priority(n) != "high" {
		t.Fatal("a rule with sound should be high priority")
	}
	badge, _ := json.Marshal(badgeNotification(p, syncapi.PushCounts{}))
	if want := `{"notification":{"counts":{"unread":0},"devices":[{"app_id":"app","pushkey":"k","pushkey_ts":7,"data":{"format":"event_id_only","x":1}}]}}`; string(badge) != want {
		t.Fatalf("badge body\n got %s\nwant %s", badge, want)
	}
}
