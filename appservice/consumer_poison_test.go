package appservice

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/stream"
)

// TestMalformedMessagesArePoison: every appservice consumer reports a
// message it cannot decode as stream.Poison, so the stream machinery
// dead-letters it and goes on instead of it being dropped unrecorded.
func TestMalformedMessagesArePoison(t *testing.T) {
	c := &Component{}
	ctx := context.Background()
	ephemeral := map[string]itemsFunc{
		"typing":      c.typingItems,
		"receipt":     c.receiptItems,
		"presence":    c.presenceItems,
		"to-device":   c.toDeviceItems,
		"device list": c.deviceListItems,
	}
	for name, f := range ephemeral {
		for _, data := range []string{`not json`, `[1,2]`} {
			if _, err := f(ctx, []byte(data)); !stream.IsPoison(err) {
				t.Errorf("%s consumer, message %q: error %v, want a poison error", name, data, err)
			}
		}
	}
	if _, err := c.deviceListItems(ctx, []byte(`{}`)); !stream.IsPoison(err) {
		t.Errorf("device list update without user_id: error %v, want a poison error", err)
	}

	roomEvents := []string{
		`not json`,
		`{"type":"new_room_event","new_room_event":{"room_version":"10","event_id":"$x","event":{"bad":true}}}`,
	}
	for _, data := range roomEvents {
		if err := c.onRoomEvents(ctx, []stream.Message{{Seq: 1, Data: []byte(data)}}); !stream.IsPoison(err) {
			t.Errorf("room event output %q: error %v, want a poison error", data, err)
		}
	}
}
