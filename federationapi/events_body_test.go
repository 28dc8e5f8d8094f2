package federationapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// eventsBody must answer what encoding/json would: the fields and each
// array of events, with or without fields and with empty arrays.
func TestEventsBodyMatchesMarshal(t *testing.T) {
	ver := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	var evs []*rsapi.Event
	for _, js := range []string{
		`{"type":"m.room.create","state_key":"","content":{"creator":"@a:x"},"room_id":"!r:x","sender":"@a:x","depth":1,"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{}}`,
		`{"type":"m.room.member","state_key":"@a:x","content":{"membership":"join","displayname":"<a>&"},"room_id":"!r:x","sender":"@a:x","depth":2,"origin_server_ts":2,"prev_events":[],"auth_events":[],"hashes":{"sha256":"y"},"signatures":{}}`,
	} {
		pdu, err := ver.NewEventFromTrustedJSON([]byte(js), false)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, rsapi.NewEvent(pdu))
	}
	f := &FederationAPI{}
	for _, c := range []struct {
		fields map[string]any
		arrays map[string][]*rsapi.Event
	}{
		{map[string]any{"origin": "x", "members_omitted": false, "servers_in_room": []string{"x"}}, map[string][]*rsapi.Event{"state": evs, "auth_chain": evs[:1]}},
		{nil, map[string][]*rsapi.Event{"pdus": evs, "auth_chain": nil}},
		{nil, map[string][]*rsapi.Event{"auth_chain": evs}},
	} {
		want := map[string]any{}
		for k, v := range c.fields {
			want[k] = v
		}
		for k, evs := range c.arrays {
			raws := []spec.RawJSON{}
			for _, e := range evs {
				raws = append(raws, spec.RawJSON(e.JSON()))
			}
			want[k] = raws
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		r := f.eventsBody(c.fields, c.arrays)
		got, ok := r.JSON.(json.RawMessage)
		if !ok || r.Code != 200 {
			t.Fatalf("answer %d %T", r.Code, r.JSON)
		}
		var gotV, wantV any
		if err := json.Unmarshal(got, &gotV); err != nil {
			t.Fatalf("not JSON: %v: %s", err, got)
		}
		if err := json.Unmarshal(wantJSON, &wantV); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotV, wantV) {
			t.Fatalf("got %s\nwant %s", got, wantJSON)
		}
	}
}
