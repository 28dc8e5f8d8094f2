package syncapi

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// roomserverMembership is a Rooms that knows one membership syncapi has
// not consumed yet.
type roomserverMembership struct {
	Rooms
	roomID, userID, membership string
}

func (r roomserverMembership) QueryMembership(_ context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (string, matrixid.EventID, error) {
	if string(roomID) == r.roomID && string(userID) == r.userID {
		return r.membership, "$join", nil
	}
	return "", "", nil
}

var _ Rooms = roomserverMembership{}

// A join the roomserver has committed but syncapi has not consumed yet
// counts: typing or a receipt the moment createRoom or /join returns.
func TestIsJoinedAsksRoomserverWhenBehind(t *testing.T) {
	ctx := context.Background()
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	r := newTestRoom(t, "!room:test")
	r.create(s, "@alice:test")

	if ok, err := s.isJoined(ctx, "@bob:test", r.id); err != nil || ok {
		t.Fatalf("no roomserver, bob not joined: got %v %v", ok, err)
	}
	s.rooms = roomserverMembership{roomID: r.id, userID: "@bob:test", membership: "join"}
	if ok, err := s.isJoined(ctx, "@bob:test", r.id); err != nil || !ok {
		t.Fatalf("roomserver has bob's join: got %v %v", ok, err)
	}
	if ok, err := s.isJoined(ctx, "@carol:test", r.id); err != nil || ok {
		t.Fatalf("carol is in neither: got %v %v", ok, err)
	}
	if ok, err := s.isJoined(ctx, "@alice:test", r.id); err != nil || !ok {
		t.Fatalf("alice is in syncapi's copy: got %v %v", ok, err)
	}
}
