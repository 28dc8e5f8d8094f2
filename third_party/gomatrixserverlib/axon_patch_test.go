package gomatrixserverlib

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// Axon patch: Build names events from the bytes it signed. The ID must be
// the reference hash computed from the finished event, and the signature
// must verify, in every room version, for state and non-state events.
func TestBuildNamesEventByReferenceHash(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := ""
	for _, ver := range RoomVersions() {
		for _, sk := range []*string{nil, &empty} {
			proto := ProtoEvent{
				SenderID: "@alice:example.org", RoomID: "!room:example.org", Type: "m.room.message", StateKey: sk,
				Content:    spec.RawJSON(`{"body":"h\u00e9llo \u2603 <>&","n":12,"nested":{"b":[1,2,{"z":null}],"a":"x"}}`),
				PrevEvents: []string{}, Depth: 7,
				Unsigned: spec.RawJSON(`{"transaction_id":"t1"}`),
			}
			if ver.StateDAGs() {
				proto.PrevStateEvents = &[]string{}
			}
			if ver.DomainlessRoomIDs() {
				proto.RoomID = "!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
			}
			ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
			if err != nil {
				t.Fatalf("%s: build: %v", ver.Version(), err)
			}
			fresh, err := ver.NewEventFromTrustedJSON(ev.JSON(), false)
			if err != nil {
				t.Fatalf("%s: parse: %v", ver.Version(), err)
			}
			ref, err := referenceOfEvent(ev.JSON(), ver.Version())
			if err != nil {
				t.Fatal(err)
			}
			if ev.EventID() != fresh.EventID() || ev.EventID() != ref.EventID {
				t.Fatalf("%s: built ID %s, reference hash of the event %s / %s", ver.Version(), ev.EventID(), fresh.EventID(), ref.EventID)
			}
			if err := checkEventContentHash(ev.JSON()); err != nil {
				t.Fatalf("%s: content hash: %v", ver.Version(), err)
			}
			redacted, err := ver.RedactEventJSON(ev.JSON())
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyJSON("example.org", "ed25519:k", pub, redacted); err != nil {
				t.Fatalf("%s: signature: %v", ver.Version(), err)
			}
		}
	}
}

// BenchmarkBuildAndName: build, sign and name one message event.
func BenchmarkBuildAndName(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	ver := MustGetRoomVersion(RoomVersionV10)
	proto := ProtoEvent{SenderID: "@alice:example.org", RoomID: "!room:example.org", Type: "m.room.message",
		Content: spec.RawJSON(`{"msgtype":"m.text","body":"axon-bench 1234abcd"}`), PrevEvents: []string{"$prev"},
		AuthEvents: []string{"$a", "$b", "$c"}, Depth: 7}
	b.ReportAllocs()
	for range b.N {
		ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.Now(), "example.org", "ed25519:k", priv)
		if err != nil {
			b.Fatal(err)
		}
		_ = ev.EventID()
	}
}
