package gomatrixserverlib

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
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

// Axon patch: the v2.1 conflicted subgraph is the events on an auth path
// from a conflicted event to a conflicted event, found without walking
// every path. A -> B -> C -> D and A -> E -> D, with A and C conflicted:
// the subgraph is A, B, C (E and D lead to nothing conflicted). A chain
// of thousands of events between two conflicted ones is all subgraph.
// memberBuilder builds signed member events naming their auth events.
func memberBuilder(tb testing.TB) func(name string, auth ...PDU) PDU {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		tb.Fatal(err)
	}
	ver := MustGetRoomVersion(RoomVersionV10)
	sk := "@a:example.org"
	return func(name string, auth ...PDU) PDU {
		ids := []string{}
		for _, a := range auth {
			ids = append(ids, a.EventID())
		}
		ev, err := ver.NewEventBuilderFromProtoEvent(&ProtoEvent{
			SenderID: sk, RoomID: "!r:example.org", Type: "m.room.member", StateKey: &sk,
			Content: spec.RawJSON(`{"membership":"join","displayname":"` + name + `"}`), PrevEvents: []string{}, AuthEvents: ids, Depth: 1,
		}).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
		if err != nil {
			tb.Fatal(err)
		}
		return ev
	}
}

func conflictedSubgraph(state []PDU, conflicted []PDU, all []PDU) map[string]bool {
	r := &stateResolverV2{authEventMap: map[string]PDU{}}
	for _, e := range all {
		r.authEventMap[e.EventID()] = e
	}
	_, sub := r.calculateFullAuthChainAndConflictedSubgraph(StateResV2_1, state, newPDUSet(conflicted))
	out := map[string]bool{}
	for _, e := range sub.Slice() {
		out[e.EventID()] = true
	}
	return out
}

func TestConflictedSubgraphLinear(t *testing.T) {
	build, subgraph := memberBuilder(t), conflictedSubgraph
	d := build("D")
	c := build("C", d)
	b := build("B", c)
	e := build("E", d)
	a := build("A", b, e)
	got := subgraph([]PDU{a}, []PDU{a, c}, []PDU{a, b, c, d, e})
	if len(got) != 3 || !got[a.EventID()] || !got[b.EventID()] || !got[c.EventID()] {
		t.Fatalf("subgraph %v, want A, B, C", got)
	}

	bottom := build("bottom")
	all := []PDU{bottom}
	prev := bottom
	for i := range 3000 {
		prev = build(string(rune('a'+i%26)), prev, bottom)
		all = append(all, prev)
	}
	if got := subgraph([]PDU{prev}, []PDU{prev, bottom}, all); len(got) != len(all) {
		t.Fatalf("chain subgraph has %d events, want %d", len(got), len(all))
	}
}

// Axon patch: invite_room_state entries are the events themselves (Matrix
// 1.16), and read back with their stripped fields.
func TestInviteStrippedStateIsPDU(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sk := ""
	ev, err := MustGetRoomVersion(RoomVersionV10).NewEventBuilderFromProtoEvent(&ProtoEvent{
		SenderID: "@a:example.org", RoomID: "!r:example.org", Type: "m.room.name", StateKey: &sk,
		Content: spec.RawJSON(`{"name":"n"}`), PrevEvents: []string{}, AuthEvents: []string{}, Depth: 1,
	}).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal([]InviteStrippedState{NewInviteStrippedState(ev)})
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != "["+string(ev.JSON())+"]" {
		t.Fatalf("sent %s, want the event %s", js, ev.JSON())
	}
	var back []InviteStrippedState
	if err := json.Unmarshal(js, &back); err != nil || len(back) != 1 || back[0].Type() != "m.room.name" || string(back[0].Content()) != `{"name":"n"}` {
		t.Fatalf("read back %+v (%v)", back, err)
	}
}

// BenchmarkConflictedSubgraph: 250 profile changes between two conflicted
// events (Complement TestMSC4297StateResolutionV2_1_includes_conflicted_subgraph).
func BenchmarkConflictedSubgraph(b *testing.B) {
	build := memberBuilder(b)
	bottom := build("bottom")
	all := []PDU{bottom}
	prev := bottom
	for i := range 250 {
		prev = build(string(rune('a'+i%26)), prev, bottom)
		all = append(all, prev)
	}
	b.ResetTimer()
	for range b.N {
		if got := conflictedSubgraph([]PDU{prev}, []PDU{prev, bottom}, all); len(got) != len(all) {
			b.Fatalf("subgraph %d, want %d", len(got), len(all))
		}
	}
}

// axonKeyDB serves one server's one key to a KeyRing.
type axonKeyDB struct {
	server spec.ServerName
	pub    ed25519.PublicKey
}

func (d axonKeyDB) FetcherName() string { return "test" }
func (d axonKeyDB) FetchKeys(_ context.Context, reqs map[PublicKeyLookupRequest]spec.Timestamp) (map[PublicKeyLookupRequest]PublicKeyLookupResult, error) {
	out := map[PublicKeyLookupRequest]PublicKeyLookupResult{}
	for req := range reqs {
		if req.ServerName == d.server && req.KeyID == "ed25519:k" {
			out[req] = PublicKeyLookupResult{VerifyKey: VerifyKey{Key: spec.Base64Bytes(d.pub)},
				ValidUntilTS: spec.AsTimestamp(time.Now().Add(time.Hour)), ExpiredTS: PublicKeyNotExpired}
		}
	}
	return out, nil
}
func (d axonKeyDB) StoreKeys(context.Context, map[PublicKeyLookupRequest]PublicKeyLookupResult) error {
	return nil
}

// Axon patch: VerifyEventSignatures checks the signature from the bytes
// it prepared once and names an unnamed event from them; the name must be
// its reference hash, and a wrong key or a tampered event must still fail.
func TestVerifyEventSignaturesNamesEvent(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	userID := func(_ spec.RoomID, s spec.SenderID) (*spec.UserID, error) { return spec.NewUserID(string(s), true) }
	for _, ver := range RoomVersions() {
		if ver.Version() == RoomVersionPseudoIDs {
			continue // senders are keys there, not users of example.org
		}
		proto := ProtoEvent{SenderID: "@alice:example.org", RoomID: "!room:example.org", Type: "m.room.message",
			Content: spec.RawJSON(`{"body":"h\u00e9llo <>&","nested":{"b":1,"a":2}}`), PrevEvents: []string{}, Depth: 3}
		if ver.StateDAGs() {
			proto.PrevStateEvents = &[]string{}
		}
		if ver.DomainlessRoomIDs() {
			proto.RoomID = "!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
		}
		built, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := referenceOfEvent(built.JSON(), ver.Version())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			key  ed25519.PublicKey
			json []byte
			ok   bool
		}{
			{"good", pub, built.JSON(), true},
			{"wrong key", otherPub, built.JSON(), false},
			{"tampered", pub, []byte(strings.Replace(string(built.JSON()), `"depth":3`, `"depth":4`, 1)), false},
		} {
			ev, err := ver.NewEventFromUntrustedJSON(c.json)
			if err != nil {
				t.Fatalf("%s %s: parse: %v", ver.Version(), c.name, err)
			}
			ring := KeyRing{KeyDatabase: axonKeyDB{server: "example.org", pub: c.key}}
			err = VerifyEventSignatures(context.Background(), ev, ring, userID)
			if (err == nil) != c.ok {
				t.Fatalf("%s %s: verify: %v", ver.Version(), c.name, err)
			}
			if c.ok && ev.EventID() != ref.EventID {
				t.Fatalf("%s: named %s, reference hash %s", ver.Version(), ev.EventID(), ref.EventID)
			}
		}
	}
}
