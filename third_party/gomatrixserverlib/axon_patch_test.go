package gomatrixserverlib

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
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
			if has := gjson.GetBytes(ev.JSON(), "event_id").Exists(); has != (ver.EventIDFormat() == EventIDFormatV1) {
				t.Fatalf("%s: event_id key present %v:\n%s", ver.Version(), has, ev.JSON())
			}
			if c, err := CanonicalJSON(ev.JSON()); err != nil || string(c) != string(ev.JSON()) {
				t.Fatalf("%s: not canonical:\n%s\n%s", ver.Version(), ev.JSON(), c)
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

// Axon patch 6: power levels parsed from the cache equal a fresh parse,
// follow the room version's rules (string levels only before v10) and
// change with the content.
func TestCachedPowerLevelsFollowContentAndVersion(t *testing.T) {
	mk := func(ver IRoomVersion, content string) PDU {
		t.Helper()
		sk := ""
		proto := ProtoEvent{SenderID: "@alice:example.org", RoomID: "!room:example.org", Type: spec.MRoomPowerLevels, StateKey: &sk,
			Content: spec.RawJSON(content), PrevEvents: []string{}, Depth: 3}
		_, priv, _ := ed25519.GenerateKey(nil)
		ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
		if err != nil {
			t.Fatalf("%s: build: %v", ver.Version(), err)
		}
		return ev
	}
	v9, v10 := MustGetRoomVersion(RoomVersionV9), MustGetRoomVersion(RoomVersionV10)
	for range 2 { // the second round is served from the cache
		p, err := NewPowerLevelContentFromEvent(mk(v9, `{"ban":"60","users":{"@bob:example.org":"20"}}`))
		if err != nil || p.Ban != 60 || p.UserLevel("@bob:example.org") != 20 || p.Kick != 50 || p.Notifications["room"] != 50 {
			t.Fatalf("v9 string levels: %+v, %v", p, err)
		}
		if _, err := NewPowerLevelContentFromEvent(mk(v10, `{"ban":"60","users":{"@bob:example.org":"20"}}`)); err == nil {
			t.Fatal("v10 accepted string power levels")
		}
		p, err = NewPowerLevelContentFromEvent(mk(v10, `{"ban":70}`))
		if err != nil || p.Ban != 70 || p.UserLevel("@bob:example.org") != 0 {
			t.Fatalf("v10 changed content: %+v, %v", p, err)
		}
		ev := mk(v10, `{"ban":80,"invite":30,"users":{"@bob:example.org":90}}`)
		if p, _ := NewPowerLevelContentFromEvent(ev); p.Invite != 30 || p.UserLevel("@bob:example.org") != 90 {
			t.Fatalf("before redaction: %+v", p)
		}
		ev.Redact() // v10 redaction drops invite, keeps ban and users
		if p, _ := NewPowerLevelContentFromEvent(ev); p.Invite != 0 || p.Ban != 80 || p.UserLevel("@bob:example.org") != 90 {
			t.Fatalf("after redaction: %+v", p)
		}
	}
}

// BenchmarkAllowedMessage is the auth check of one message against the
// room's create, power levels and sender's member events, as the
// roomserver runs it for every local event.
func BenchmarkAllowedMessage(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	ver := MustGetRoomVersion(RoomVersionV10)
	sk, alice := "", "@alice:example.org"
	build := func(typ string, stateKey *string, content string, auth []string) PDU {
		proto := ProtoEvent{SenderID: alice, RoomID: "!room:example.org", Type: typ, StateKey: stateKey,
			Content: spec.RawJSON(content), PrevEvents: []string{}, AuthEvents: auth, Depth: 1}
		ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000000), "example.org", "ed25519:k", priv)
		if err != nil {
			b.Fatal(err)
		}
		return ev
	}
	create := build(spec.MRoomCreate, &sk, `{"creator":"@alice:example.org","room_version":"10"}`, []string{})
	member := build(spec.MRoomMember, &alice, `{"membership":"join"}`, []string{create.EventID()})
	pl := build(spec.MRoomPowerLevels, &sk, `{"ban":50,"events":{"m.room.name":50,"m.room.power_levels":100},"events_default":0,"invite":0,"kick":50,"notifications":{"room":50},"redact":50,"state_default":50,"users":{"@alice:example.org":100},"users_default":0}`,
		[]string{create.EventID(), member.EventID()})
	msg := build("m.room.message", nil, `{"msgtype":"m.text","body":"hello"}`, []string{create.EventID(), member.EventID(), pl.EventID()})
	auth, err := NewAuthEvents([]PDU{create, member, pl})
	if err != nil {
		b.Fatal(err)
	}
	querier := func(_ spec.RoomID, s spec.SenderID) (*spec.UserID, error) { return spec.NewUserID(string(s), true) }
	b.ReportAllocs()
	for range b.N {
		if err := Allowed(msg, auth, querier); err != nil {
			b.Fatal(err)
		}
	}
}

// Axon patch 7: events Build makes are filled without json.Unmarshal,
// and equal what json.Unmarshal makes of them, in every room version.
func TestBuiltEventEqualsParsed(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	empty, alice := "", "@alice:example.org"
	protos := []ProtoEvent{
		{Type: "m.room.message", Content: spec.RawJSON(`{"body":"h\u00e9llo \"q\" \\ \u0001 \u2603","msgtype":"m.text","n":-12,"z":{"b":null,"a":[1]}}`),
			PrevEvents: []string{"$p1", "$p2"}, AuthEvents: []string{"$a"}, Unsigned: spec.RawJSON(`{"transaction_id":"t1"}`)},
		{Type: spec.MRoomMember, StateKey: &alice, Content: spec.RawJSON(`{"membership":"join"}`), PrevEvents: []string{"$p"}, AuthEvents: []string{"$a", "$b"}},
		{Type: spec.MRoomName, StateKey: &empty, Content: spec.RawJSON(`{}`)},
		{Type: spec.MRoomRedaction, Redacts: "$target", Content: spec.RawJSON(`{"reason":"spam","redacts":"$target"}`), PrevEvents: []string{"$p"}},
	}
	for _, ver := range RoomVersions() {
		for i, proto := range protos {
			proto.SenderID, proto.RoomID, proto.Depth = alice, "!room:example.org", int64(7+i)
			if ver.DomainlessRoomIDs() {
				proto.RoomID = "!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
			}
			if ver.StateDAGs() {
				proto.PrevStateEvents = &[]string{"$ps"}
			}
			ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.UnixMilli(1700000000123), "example.org", "ed25519:k", priv)
			if err != nil {
				t.Fatalf("%s/%d: build: %v", ver.Version(), i, err)
			}
			parsed, err := ver.NewEventFromTrustedJSONWithEventID(ev.EventID(), ev.JSON(), false)
			if err != nil {
				t.Fatalf("%s/%d: parse: %v", ver.Version(), i, err)
			}
			if ver.EventFormat() == EventFormatV2 {
				var fast, slow eventV2
				if !fillEventV2(&fast, ev.JSON()) {
					t.Fatalf("%s/%d: not filled directly", ver.Version(), i)
				}
				if err := json.Unmarshal(ev.JSON(), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
					t.Fatalf("%s/%d: filled\n%#v\njson.Unmarshal (%v)\n%#v", ver.Version(), i, fast, err, slow)
				}
			}
			if !reflect.DeepEqual(ev, parsed) {
				t.Fatalf("%s/%d: built\n%#v\nparsed\n%#v", ver.Version(), i, ev, parsed)
			}
		}
	}
	if got, ok := signaturesJSON("example.org", "ed25519:k", []byte{1, 2, 250}); !ok || string(got) != `{"example.org":{"ed25519:k":"AQL6"}}` {
		t.Fatalf("signaturesJSON: %s", got)
	}
	if _, ok := signaturesJSON("a<b", "ed25519:k", nil); ok {
		t.Fatal("signaturesJSON wrote a name json.Marshal escapes")
	}
}

// Axon patch 8: keys inserted in order keep a canonical object canonical.
func TestInsertSortedKey(t *testing.T) {
	for _, tc := range []struct{ in, key, want string }{
		{`{}`, "m", `{"m":1}`},
		{`{"a":0}`, "m", `{"a":0,"m":1}`},
		{`{"z":0}`, "m", `{"m":1,"z":0}`},
		{`{"a":{"q":"}"},"z":[0]}`, "m", `{"a":{"q":"}"},"m":1,"z":[0]}`},
		{`{"a":0,"ma":1,"n":2}`, "m", `{"a":0,"m":1,"ma":1,"n":2}`},
	} {
		got, ok := insertSortedKey([]byte(tc.in), tc.key, []byte("1"))
		if !ok || string(got) != tc.want {
			t.Errorf("insert %q into %s: %s, want %s", tc.key, tc.in, got, tc.want)
		}
	}
	if _, ok := insertSortedKey([]byte(`[1]`), "m", []byte("1")); ok {
		t.Error("inserted into an array")
	}
}

// Axon patch 7: wherever fillEventV2 accepts an input, it sets exactly
// what json.Unmarshal sets; inputs where they could differ are declined.
func TestFillEventV2MatchesUnmarshal(t *testing.T) {
	base := `"room_id":"!r:hs","sender":"@u:hs","type":"m.room.message","content":{"body":"x"},"depth":3,"origin_server_ts":17,"prev_events":["$p"],"auth_events":["$a","$b"]`
	for _, tc := range []struct {
		js      string
		accepts bool
	}{
		{`{` + base + `}`, true},
		{`{` + base + `,"state_key":"","unsigned":{"age":1},"hashes":{"sha256":"h"},"signatures":{},"origin":"hs","redacts":"$x"}`, true},
		{`{` + base + `,"state_key":"a","state_key":null}`, true},
		{`{` + base + `,"type":"second","prev_events":null,"content":null}`, true},
		{`{` + base + `,"sender":"q\"uote\n\\"}`, true},
		{`{` + base + `,"sender":"\u00e9"}`, false},
		{`{` + base + `,"sender":"\ud800"}`, false},
		{`{` + base + `,"sender":"bad ` + "\xff" + ` utf8"}`, false},
		{`{` + base + `,"Type":"m.x"}`, false},
		{`{` + base + `,"t\u0079pe":"m.x"}`, false},
		{`{` + base + `,"depth":1.0}`, false},
		{`{` + base + `,"depth":"3"}`, false},
		{`{` + base + `,"origin_server_ts":-1}`, false},
		{`{` + base + `,"prev_events":[1]}`, false},
		{`{` + base + `,"event_id":"$e"}`, false},
		{`{` + base + `,"sticky":{"duration_ms":5}}`, false},
		{`{` + base + `,"room_id":5}`, false},
		{`[1]`, false},
	} {
		var fast, slow eventV2
		got := fillEventV2(&fast, []byte(tc.js))
		if got != tc.accepts {
			t.Errorf("%s: accepted %v, want %v", tc.js, got, tc.accepts)
		}
		if !got {
			continue
		}
		if err := json.Unmarshal([]byte(tc.js), &slow); err != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: filled\n%#v\njson.Unmarshal (%v)\n%#v", tc.js, fast, err, slow)
		}
	}
}

// Axon patch 9: the direct redaction equals the canonical form of
// RedactEventJSON's, in every room version; auth event types are left to
// RedactEventJSON.
func TestRedactedCanonicalMatches(t *testing.T) {
	events := []string{
		`{"auth_events":["$a"],"content":{"body":"<b>&","msgtype":"m.text","nested":{"z":[1,{"y":null}]}},"depth":4,"hashes":{"sha256":"h"},"origin":"hs","origin_server_ts":5,"prev_events":["$p"],"room_id":"!r:hs","sender":"@u:hs","type":"m.room.message","unsigned":{"transaction_id":"t"}}`,
		`{"content":{},"depth":1,"origin_server_ts":5,"prev_events":[],"prev_state":[],"room_id":"!r:hs","sender":"@u:hs","state_key":"","type":"org.example.state"}`,
		`{"content":{"a":1},"membership":"join","prev_state_events":["$s"],"room_id":"!r:hs","sender":"@u:hs","state_key":null,"type":"m.room.encrypted"}`,
		`{"content":{"membership":"join"},"room_id":"!r:hs","sender":"@u:hs","state_key":"@u:hs","type":"m.room.member"}`,
		`{"content":"not an object","room_id":"!r:hs","sender":"@u:hs","type":"m.room.message"}`,
	}
	for _, ver := range RoomVersions() {
		for i, js := range events {
			canonical, err := CanonicalJSON([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := redactedCanonical(canonical, ver)
			if want := i < 3; ok != want {
				t.Fatalf("%s/%d: direct %v, want %v", ver.Version(), i, ok, want)
			}
			if !ok {
				continue
			}
			red, err := ver.RedactEventJSON(canonical)
			if err != nil {
				t.Fatal(err)
			}
			want, err := CanonicalJSON(red)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s/%d: direct\n%s\nRedactEventJSON\n%s", ver.Version(), i, got, want)
			}
		}
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

// fillEventV2 reads its input in place: nothing it keeps may still point
// into it (a caller may reuse the buffer).
func TestFillEventV2KeepsNoViewOfInput(t *testing.T) {
	js := []byte(`{"room_id":"!r:hs","sender":"@u:hs","type":"m.room.member","state_key":"@u:hs","content":{"membership":"join"},"unsigned":{"age":1},"depth":3,"origin_server_ts":17,"prev_events":["$p"],"auth_events":["$a","$b"],"redacts":"$x"}`)
	var e eventV2
	if !fillEventV2(&e, js) {
		t.Fatal("declined")
	}
	// Sprintf writes a new string: a snapshot that does not change with js.
	fields := func() string {
		f := e.eventFields
		return fmt.Sprintf("%q %q %q %q %q %s %s %q %q", f.RoomID, f.SenderID, f.Type, f.Redacts, *f.StateKey, f.Content, f.Unsigned, e.PrevEvents, e.AuthEvents)
	}
	before := fields()
	for i := range js {
		js[i] = 'X'
	}
	if after := fields(); after != before {
		t.Fatalf("fields changed with the input:\n%s\n%s", before, after)
	}
}
