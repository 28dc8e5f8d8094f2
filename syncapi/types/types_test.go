package types

import (
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"encoding/json"
	"testing"
)

func TestStreamTokenRoundTrip(t *testing.T) {
	tok := StreamToken{PDU: 12, AccountData: 3, Receipt: 4, Typing: 1700000000000, ToDevice: 5, Presence: 6, DeviceList: 7}
	got, err := ParseStreamToken(tok.String())
	if err != nil || got != tok {
		t.Fatalf("round trip: %v %v", got, err)
	}
	short, err := ParseStreamToken("s5_2")
	if err != nil || short.PDU != 5 || short.AccountData != 2 || short.Receipt != 0 {
		t.Fatalf("short token: %v %v", short, err)
	}
	for _, bad := range []string{"", "s", "x1_2", "s1_-2", "s1_2_3_4_5_6_7_8", "s1__2", "sabc", "t5"} {
		if _, err := ParseStreamToken(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !tok.IsAfter(StreamToken{PDU: 12}) || (StreamToken{PDU: 1}).IsAfter(tok) {
		t.Fatal("IsAfter")
	}
	m := StreamToken{PDU: 20}.Max(tok)
	if m.PDU != 20 || m.Typing != tok.Typing {
		t.Fatalf("Max %v", m)
	}
	pt, err := ParsePaginationToken("t42")
	if err != nil || pt.Pos != 42 || pt.String() != "t42" {
		t.Fatalf("topology %v %v", pt, err)
	}
	if pt, err := ParsePaginationToken(tok.String()); err != nil || pt.Pos != 12 {
		t.Fatalf("sync token as pagination token: %v %v", pt, err)
	}
	// Negative positions are backfilled history, down to MinBackfillPos-1.
	if pt, err := ParsePaginationToken("t-1"); err != nil || pt.Pos != -1 {
		t.Fatalf("backfill position: %v %v", pt, err)
	}
	if _, err := ParsePaginationToken((TopologyToken{Pos: MinBackfillPos - 2}).String()); err == nil {
		t.Fatal("position below backfilled history accepted")
	}
	if _, err := ParseStreamToken("s-1_0_0_0_0_0_0"); err == nil {
		t.Fatal("negative stream token accepted")
	}
}

func TestFilters(t *testing.T) {
	f, err := ParseFilter([]byte(`{"room":{"rooms":["!a:x"],"not_rooms":["!b:x"],"timeline":{"limit":5,"types":["m.room.*"],"not_types":["m.room.member"],"not_senders":["@spam:x"],"contains_url":true},"state":{"lazy_load_members":true},"include_leave":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.TimelineLimit() != 5 || !f.Room.IncludeLeave || !f.Room.State.LazyLoadMembers {
		t.Fatalf("parsed %+v", f)
	}
	if !f.Room.AllowsRoom("!a:x") || f.Room.AllowsRoom("!b:x") || f.Room.AllowsRoom("!c:x") {
		t.Fatal("room allow lists")
	}
	tl := &f.Room.Timeline
	ok := &Event{Type: "m.room.message", Sender: "@a:x", RoomID: "!a:x", ContainsURL: true}
	if !tl.AllowsEvent(ok) {
		t.Fatal("message rejected")
	}
	for name, ev := range map[string]*Event{
		"not_types":    {Type: "m.room.member", Sender: "@a:x", ContainsURL: true},
		"types":        {Type: "org.custom", Sender: "@a:x", ContainsURL: true},
		"not_senders":  {Type: "m.room.message", Sender: "@spam:x", ContainsURL: true},
		"contains_url": {Type: "m.room.message", Sender: "@a:x"},
	} {
		if tl.AllowsEvent(ev) {
			t.Errorf("%s: allowed", name)
		}
	}
	if _, err := ParseFilter([]byte(`{"room":{"timeline":{"limit":-1}}}`)); err == nil {
		t.Fatal("negative limit accepted")
	}
	if _, err := ParseFilter([]byte(`{"event_format":"xml"}`)); err == nil {
		t.Fatal("bad event_format accepted")
	}
	for _, bad := range []string{
		`{"room":{"timeline":{"rooms":["not_a_room_id"]}}}`,
		`{"room":{"not_rooms":["#alias:x"]}}`,
		`{"room":{"state":{"senders":["not_a_sender_id"]}}}`,
		`{"presence":{"not_senders":["!room:x"]}}`,
	} {
		if _, err := ParseFilter([]byte(bad)); err == nil {
			t.Errorf("filter with a bad ID accepted: %s", bad)
		}
	}
	if _, err := ParseFilter([]byte(`{"room":{"rooms":["!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],"timeline":{"senders":["@a:x"]}}}`)); err != nil {
		t.Errorf("domainless room ID refused: %v", err)
	}
	if _, err := ParseFilter([]byte(`{"room":{"timeline":{"senders":"x"}}}`)); err == nil {
		t.Fatal("wrong type accepted")
	}
	big, err := ParseFilter([]byte(`{"room":{"timeline":{"limit":100000}}}`))
	if err != nil || big.TimelineLimit() != MaxTimelineLimit {
		t.Fatal("limit not capped")
	}
	for pat, cases := range map[string]map[string]bool{
		"m.*":       {"m.room.message": true, "org.m": false},
		"*.message": {"m.room.message": true, "m.room.member": false},
		"m.*.mem*":  {"m.room.member": true, "m.room.message": false},
	} {
		for v, want := range cases {
			if matchType(pat, v) != want {
				t.Errorf("%s ~ %s != %v", pat, v, want)
			}
		}
	}
	out, _ := json.Marshal(f)
	if _, err := ParseFilter(out); err != nil {
		t.Fatal(err)
	}
}

func TestServeAddsAge(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"type":"m.x","content":{}}`, `{"type":"m.x","content":{},"unsigned":{"age":42}}`},
		{`{"type":"m.x","unsigned":{"prev_content":{}}}`, `{"type":"m.x","unsigned":{"age":42,"prev_content":{}}}`},
		{`{"type":"m.x","unsigned":{}}`, `{"type":"m.x","unsigned":{"age":42}}`},
		{`{"type":"m.x","unsigned":{"age":1}}`, `{"type":"m.x","unsigned":{"age":42}}`},
	} {
		in := []byte(tc.in)
		if got, _ := withAge(in, 42, ""); string(got) != tc.want {
			t.Errorf("withAge(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if string(in) != tc.in {
			t.Errorf("withAge modified its input: %s", in)
		}
	}
	ev := &Event{JSON: []byte(`{"type":"m.x","content":{}}`), OriginTS: time.Now().UnixMilli() - 5000, TxnID: "t1", TxnDevice: "D"}
	out := gjson.ParseBytes(ev.Serve("D", nil))
	if age := out.Get("unsigned.age").Int(); age < 5000 || age > 60000 {
		t.Errorf("age %d", age)
	}
	if out.Get("unsigned.transaction_id").Str != "t1" {
		t.Errorf("transaction_id missing: %s", out.Raw)
	}
	if gjson.GetBytes(ev.Serve("OTHER", nil), "unsigned.transaction_id").Exists() {
		t.Error("transaction_id leaked to another device")
	}
}

// TestToClientJSONStoresNoAge: the stored client form carries no age
// (Serve adds it), keeps other unsigned fields, and has no unsigned key
// when nothing else is in it.
func TestToClientJSONStoresNoAge(t *testing.T) {
	ver := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	for _, tc := range []struct {
		unsigned string
		extra    map[string]any
		want     string // unsigned as stored; "" = absent
	}{
		{``, nil, ``},
		{`,"unsigned":{}`, nil, ``},
		{`,"unsigned":{"age":7}`, nil, ``},
		{`,"unsigned":{"age":7,"redacted_because":{"type":"m.room.redaction"}}`, nil, `{"redacted_because":{"type":"m.room.redaction"}}`},
		{``, map[string]any{"prev_content": json.RawMessage(`{"a":1}`)}, `{"prev_content":{"a":1}}`},
	} {
		js := `{"auth_events":[],"content":{"body":"x"},"depth":1,"origin_server_ts":1,"prev_events":[],"room_id":"!r:hs","sender":"@u:hs","type":"m.room.message"` + tc.unsigned + `}`
		pdu, err := ver.NewEventFromTrustedJSONWithEventID("$e", []byte(js), false)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ToClientJSON(pdu, tc.extra)
		if err != nil {
			t.Fatal(err)
		}
		u := gjson.GetBytes(out, "unsigned")
		if got := u.Raw; got != tc.want {
			t.Errorf("unsigned %s with %v: stored %s, want %q", tc.unsigned, tc.extra, out, tc.want)
		}
		if gjson.GetBytes(out, "content.body").Str != "x" || gjson.GetBytes(out, "event_id").Str != "$e" {
			t.Errorf("stored %s", out)
		}
	}
}

// withAge's one splice of age and membership gives, byte for byte, what
// adding membership with sjson after the age gave; memberships it cannot
// splice are left to sjson (set false).
func TestWithAgeMembershipAsSjson(t *testing.T) {
	for _, js := range []string{
		`{"type":"m.room.message","content":{"body":"hi <b>"}}`,
		`{"type":"m.x","content":{},"unsigned":{"prev_content":{}}}`,
		`{"type":"m.x","unsigned":{}}`,
		`{"type":"m.x","unsigned":{"membership":"leave"}}`,
		`{}`,
	} {
		for _, m := range []string{"join", "leave", "invite", "ban", "knock", "odd\"one", "Join"} {
			want, err := sjson.SetBytes(withAgeOnly([]byte(js), gjson.Get(js, "unsigned"), 42), "unsigned.membership", m)
			if err != nil {
				t.Fatal(err)
			}
			got, set := withAge([]byte(js), 42, m)
			if !set {
				if got, err = sjson.SetBytes(got, "unsigned.membership", m); err != nil {
					t.Fatal(err)
				}
			} else if !plainWord(m) {
				t.Errorf("%q spliced", m)
			}
			if string(got) != string(want) {
				t.Errorf("%s with %q: %s, want %s", js, m, got, want)
			}
		}
	}
}

// BenchmarkServeToMember serves a message to a joined member, as every
// woken /sync does for each timeline event ("sjson": membership added the
// way it was before the one splice).
func BenchmarkServeToMember(b *testing.B) {
	ev := &Event{JSON: []byte(`{"content":{"body":"hello there, how are you","msgtype":"m.text"},"event_id":"$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG","origin_server_ts":1700000000000,"room_id":"!room:localhost:18508","sender":"@axb4701aa-17:localhost:18508","type":"m.room.message"}`), OriginTS: 1700000000000}
	b.Run("splice", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_ = ev.ServeTo("DEV", "join", nil)
		}
	})
	b.Run("sjson", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			out := withAgeOnly(ev.JSON, gjson.GetBytes(ev.JSON, "unsigned"), 42)
			_, _ = sjson.SetBytes(out, "unsigned.membership", "join")
		}
	})
}
