package appservice

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// fakeRooms serves no state: rooms start with no appservice members.
type fakeRooms struct{ aliases map[string][]string }

func (fakeRooms) QueryCurrentState(_ context.Context, roomID matrixid.RoomID, _ []rsapi.StateKey) ([]*rsapi.Event, error) {
	if roomID == "!gone:hs" {
		return nil, rsapi.ErrRoomNotFound
	}
	return nil, nil
}
func (f fakeRooms) QueryAliasesForRoom(_ context.Context, roomID matrixid.RoomID) ([]string, error) {
	return f.aliases[string(roomID)], nil
}
func (fakeRooms) QueryRoomsForUser(context.Context, matrixid.UserID, string) ([]matrixid.RoomID, error) {
	return nil, nil
}
func (fakeRooms) QueryStateDelta(context.Context, matrixid.RoomID, rsapi.StateDeltaRef) (*rsapi.StateDelta, error) {
	return &rsapi.StateDelta{}, nil
}

func registration(t *testing.T, yaml string) *config.AppService {
	t.Helper()
	reg, _, err := config.ParseAppService([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func ids(apps []*config.AppService) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.ID)
	}
	return out
}

func TestInterest(t *testing.T) {
	irc := registration(t, "id: irc\nurl: http://x\nas_token: a\nhs_token: b\nsender_localpart: _irc_bot\nnamespaces:\n  users: [{regex: '@_irc_.*', exclusive: true}]\n  aliases: [{regex: '#_irc_.*', exclusive: true}]\n")
	logger := registration(t, "id: log\nurl: http://y\nas_token: c\nhs_token: d\nsender_localpart: logbot\nnamespaces:\n  rooms: [{regex: '!logged:.*', exclusive: false}]\n")
	in := newInterest([]*config.AppService{irc, logger}, "hs", fakeRooms{aliases: map[string][]string{"!aliased:hs": {"#_irc_chan:hs"}}})
	ctx := context.Background()
	sk := func(s string) *string { return &s }
	cases := []struct {
		name, room, sender, evType string
		stateKey                   *string
		want                       []string
	}{
		{"unrelated", "!r:hs", "@alice:hs", "m.room.message", nil, nil},
		{"sender in namespace", "!r:hs", "@_irc_bob:hs", "m.room.message", nil, []string{"irc"}},
		{"remote sender never matches user namespaces", "!r:hs", "@_irc_bob:other", "m.room.message", nil, nil},
		{"invite of a ghost", "!r:hs", "@alice:hs", "m.room.member", sk("@_irc_bob:hs"), []string{"irc"}},
		{"state key of another type does not count", "!r:hs", "@alice:hs", "m.custom", sk("@_irc_bob:hs"), nil},
		{"room namespace", "!logged:hs", "@alice:hs", "m.room.message", nil, []string{"log"}},
		{"alias namespace", "!aliased:hs", "@alice:hs", "m.room.message", nil, []string{"irc"}},
		{"room unknown to the roomserver", "!gone:hs", "@_irc_bob:hs", "m.room.message", nil, []string{"irc"}},
	}
	for _, c := range cases {
		got, err := in.forEvent(ctx, c.room, c.sender, c.stateKey, c.evType)
		if err != nil || !slices.Equal(ids(got), c.want) {
			t.Errorf("%s: got %v %v, want %v", c.name, ids(got), err, c.want)
		}
	}
	// Once a ghost has joined, everything in the room goes to its bridge,
	// until it leaves.
	join, _ := json.Marshal(map[string]string{"membership": "join"})
	in.observe("!r:hs", "m.room.member", sk("@_irc_bob:hs"), join)
	if got, _ := in.forEvent(ctx, "!r:hs", "@alice:hs", nil, "m.room.message"); !slices.Equal(ids(got), []string{"irc"}) {
		t.Fatalf("joined ghost: %v", ids(got))
	}
	leave, _ := json.Marshal(map[string]string{"membership": "leave"})
	in.observe("!r:hs", "m.room.member", sk("@_irc_bob:hs"), leave)
	if got, _ := in.forEvent(ctx, "!r:hs", "@alice:hs", nil, "m.room.message"); got != nil {
		t.Fatalf("after leave: %v", ids(got))
	}
}

func TestTypingList(t *testing.T) {
	var tr typingRooms
	if got := tr.apply(typingEv("!r", "@a", true)); !slices.Equal(got, []string{"@a"}) {
		t.Fatal(got)
	}
	if got := tr.apply(typingEv("!r", "@b", true)); !slices.Equal(got, []string{"@a", "@b"}) {
		t.Fatal(got)
	}
	if got := tr.apply(typingEv("!r", "@a", false)); !slices.Equal(got, []string{"@b"}) {
		t.Fatal(got)
	}
	if got := tr.apply(typingEv("!r", "@b", false)); len(got) != 0 || len(tr.rooms) != 0 {
		t.Fatalf("%v, rooms left %d", got, len(tr.rooms))
	}
}
