package matrixid

import (
	"encoding/json"
	"testing"
)

// TestJSONUnchanged: typed identifiers encode as the strings they were,
// so RPC and stream payloads do not change.
func TestJSONUnchanged(t *testing.T) {
	type typed struct {
		Room   RoomID    `json:"room_id"`
		Users  []UserID  `json:"users"`
		Event  EventID   `json:"event_id"`
		Type   EventType `json:"type"`
		ByRoom map[RoomID]EventID
	}
	type plain struct {
		Room   string            `json:"room_id"`
		Users  []string          `json:"users"`
		Event  string            `json:"event_id"`
		Type   string            `json:"type"`
		ByRoom map[string]string `json:"ByRoom"`
	}
	a, err := json.Marshal(typed{"!r:hs", []UserID{"@a:hs"}, "$e", "m.room.member", map[RoomID]EventID{"!r:hs": "$e"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(plain{"!r:hs", []string{"@a:hs"}, "$e", "m.room.member", map[string]string{"!r:hs": "$e"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("typed %s, plain %s", a, b)
	}
}

func TestConversions(t *testing.T) {
	ids := From[RoomID]([]string{"!a:hs", "!b:hs"})
	if back := Strings(ids); len(back) != 2 || back[0] != "!a:hs" || back[1] != "!b:hs" {
		t.Fatalf("round trip %v", back)
	}
}
