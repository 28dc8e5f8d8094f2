package gomatrixserverlib

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// Axon patch: UntrustedEvents parses on every core; the events must come
// back in the given order, each named by its own JSON, and ones that do
// not parse left out as before.
func TestUntrustedEventsKeepOrder(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ver := MustGetRoomVersion(RoomVersionV10)
	var jsons EventJSONs
	var want []string
	for i := range 300 {
		if i%7 == 3 {
			jsons = append(jsons, spec.RawJSON(`{"not":"an event"`))
			continue
		}
		key := fmt.Sprint(i)
		proto := ProtoEvent{SenderID: "@alice:example.org", RoomID: "!room:example.org", Type: "org.example.state",
			StateKey: &key, Content: spec.RawJSON(fmt.Sprintf(`{"i":%d}`, i)), PrevEvents: []string{}, AuthEvents: []string{}, Depth: int64(i + 1)}
		built, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
		if err != nil {
			t.Fatal(err)
		}
		jsons = append(jsons, built.JSON())
		want = append(want, built.EventID())
	}
	got := jsons.UntrustedEvents(RoomVersionV10)
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i, ev := range got {
		if ev.EventID() != want[i] {
			t.Fatalf("event %d is %s, want %s", i, ev.EventID(), want[i])
		}
	}
}
