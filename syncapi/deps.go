package syncapi

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// What syncapi asks of other components, declared here so each need is
// visible and a fake (or an RPC client) has to provide only this much.

// Users is the part of the userapi syncapi calls.
type Users interface {
	QueryDevices(ctx context.Context, userID matrixid.UserID) ([]uapi.DeviceInfo, error)
	AccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string) (json.RawMessage, error)
	SetAccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string, content json.RawMessage) error
	SearchUsers(ctx context.Context, term string, limit int) ([]uapi.DirectoryUser, error)
}

// Rooms is the part of the roomserver syncapi calls.
type Rooms interface {
	QueryStateAfterEvent(ctx context.Context, roomID matrixid.RoomID, eventID matrixid.EventID, tuples []rsapi.StateKey) ([]*rsapi.Event, error)
	// QueryEvents and QueryEventVisibility serve GET /event for events
	// syncapi has no copy of (outliers: state fetched with a join).
	QueryEvents(ctx context.Context, eventIDs []matrixid.EventID) ([]*rsapi.Event, error)
	QueryEventVisibility(ctx context.Context, userID matrixid.UserID, events []*rsapi.Event) ([]bool, error)
	// QueryMembership answers isJoined when syncapi's copy of a room has
	// not yet caught up with a join.
	QueryMembership(ctx context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (membership string, eventID matrixid.EventID, err error)
	// QueryStateDelta reads a state change too big for its output.
	rsapi.StateDeltaQuerier
}

// Keys gives /sync its E2EE counts (the keyserver).
type Keys interface {
	KeyCounts(ctx context.Context, userID matrixid.UserID, deviceID string) (*ksapi.KeyCounts, error)
}

// Federation backfills /messages from other servers (the federationapi).
type Federation interface {
	Backfill(ctx context.Context, roomID matrixid.RoomID, fromEventIDs []matrixid.EventID, limit int) (int, error)
}
