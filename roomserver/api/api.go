// Package api is the roomserver's public surface: the Go interface other
// components call, the request/response and output-stream types, and two
// pure helpers every reader of room events needs (client event format and
// history visibility), so syncapi and clientapi apply identical rules.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface RoomserverAPI

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
)

// RoomserverAPI is what other components may ask of the roomserver.
type RoomserverAPI interface {
	// InputRoomEvents is the single write path: local events to build and
	// sign, and federation PDUs. Events of one request are applied
	// in order in one room; results come back per event.
	InputRoomEvents(ctx context.Context, req *InputRoomEventsRequest) (*InputRoomEventsResponse, error)

	// QueryRoomVersion returns ErrRoomNotFound for unknown rooms.
	QueryRoomVersion(ctx context.Context, roomID matrixid.RoomID) (string, error)
	// QueryCurrentState returns current state events for the tuples asked
	// (all current state when tuples is empty).
	QueryCurrentState(ctx context.Context, roomID matrixid.RoomID, tuples []StateKey) ([]*Event, error)
	// QueryStateAfterEvent returns the room state after eventID (including
	// it when it is a state event), filtered like QueryCurrentState.
	QueryStateAfterEvent(ctx context.Context, roomID matrixid.RoomID, eventID matrixid.EventID, tuples []StateKey) ([]*Event, error)
	// QueryEvents returns the events it knows, in request order, skipping
	// unknown IDs. Redacted events come back redacted.
	QueryEvents(ctx context.Context, eventIDs []matrixid.EventID) ([]*Event, error)
	// QueryStateDelta reads the state change an output left out
	// (OutputNewRoomEvent.StateDelta; consumers call FetchStateDelta).
	QueryStateDelta(ctx context.Context, roomID matrixid.RoomID, ref StateDeltaRef) (*StateDelta, error)
	// QueryMembership is a user's current membership ("" if none) and the
	// member event ID.
	QueryMembership(ctx context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (membership string, eventID matrixid.EventID, err error)
	// QueryRoomsForUser lists rooms where the user's current membership is
	// membership (not forgotten).
	QueryRoomsForUser(ctx context.Context, userID matrixid.UserID, membership string) ([]matrixid.RoomID, error)
	// QueryEventVisibility says, for each event, whether userID may see it
	// under the room's history visibility rules.
	QueryEventVisibility(ctx context.Context, userID matrixid.UserID, events []*Event) ([]bool, error)
	// QueryForwardExtremities lists the room's current DAG tips.
	QueryForwardExtremities(ctx context.Context, roomID matrixid.RoomID) ([]matrixid.EventID, error)
	// QueryEventByTimestamp finds the closest event at or after (dir "f")
	// or at or before (dir "b") ts in ms.
	QueryEventByTimestamp(ctx context.Context, roomID matrixid.RoomID, ts int64, dir string) (eventID matrixid.EventID, eventTS int64, err error)
	// QueryRoomSummary is what the directory and hierarchy show.
	QueryRoomSummary(ctx context.Context, roomID matrixid.RoomID) (*RoomSummary, error)
	// QueryHierarchyRoom is the room as a space hierarchy or a room
	// summary shows it (children_state only for a space, only suggested
	// children with suggestedOnly); unlike RoomSummary, all of it crosses
	// RPC.
	QueryHierarchyRoom(ctx context.Context, roomID matrixid.RoomID, suggestedOnly bool) (*HierarchyRoom, error)
	// QueryAllRooms lists every room the server knows, oldest first
	// (server administration).
	QueryAllRooms(ctx context.Context) ([]string, error)
	// QueryRoomMediaURIs lists the mxc:// URIs in the content of a
	// room's events (server administration: quarantining a room's media),
	// a page of events at a time: after is 0 or the Next of the previous
	// page; Next is 0 after the last page.
	QueryRoomMediaURIs(ctx context.Context, roomID matrixid.RoomID, after int64) (*RoomMediaPage, error)

	// Aliases.
	SetRoomAlias(ctx context.Context, alias string, roomID matrixid.RoomID, creator matrixid.UserID) error
	RemoveRoomAlias(ctx context.Context, alias string) error
	QueryAlias(ctx context.Context, alias string) (roomID matrixid.RoomID, creator matrixid.UserID, err error)
	QueryAliasesForRoom(ctx context.Context, roomID matrixid.RoomID) ([]string, error)
	// MoveAliases re-points every alias of one room to another (upgrades).
	MoveAliases(ctx context.Context, fromRoomID, toRoomID matrixid.RoomID) error

	// Room directory visibility ("public" / "private").
	SetRoomVisibility(ctx context.Context, roomID matrixid.RoomID, visibility string) error
	QueryRoomVisibility(ctx context.Context, roomID matrixid.RoomID) (string, error)
	// SetNetworkRoomVisibility lists ("public") or unlists a room in an
	// appservice's directory of one of its networks.
	SetNetworkRoomVisibility(ctx context.Context, appserviceID, networkID string, roomID matrixid.RoomID, visibility string) error
	// QueryPublicRooms pages through published rooms, largest first.
	QueryPublicRooms(ctx context.Context, req *PublicRoomsRequest) (*PublicRoomsResponse, error)

	// ForgetRoom hides a left room from the user (spec /forget).
	ForgetRoom(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID) error

	// Federation support (types in federation.go).

	// QueryEventTemplate builds an unsigned event on the room's current
	// head (prev/auth events, depth) for a user of another server
	// (make_join, make_leave, make_knock) or for an invite this server
	// signs and sends for countersigning. It is auth-checked against the
	// current state: CodeForbidden when not allowed.
	QueryEventTemplate(ctx context.Context, req *EventTemplateRequest) (*EventTemplate, error)
	// QueryStateBeforeEvent is the room state before eventID (federation
	// /state and /state_ids).
	QueryStateBeforeEvent(ctx context.Context, roomID matrixid.RoomID, eventID matrixid.EventID) ([]*Event, error)
	// QueryServerInRoom says whether serverName has a joined member in
	// the room's current state.
	QueryServerInRoom(ctx context.Context, roomID matrixid.RoomID, serverName string) (bool, error)
	// QueryServerInvited says whether serverName has an invited member
	// in the room's current state (federation /hierarchy lets it see the
	// room).
	QueryServerInvited(ctx context.Context, roomID matrixid.RoomID, serverName string) (bool, error)
	// QueryJoinAuthoriser picks the user of this server who vouches for
	// userID's join to a restricted room (join_authorised_via_users_server),
	// "" when the join needs none. CodeForbidden: the user meets no
	// condition; CodeUnableToAuthoriseJoin / CodeUnableToGrantJoin: this
	// server cannot vouch, another one may.
	QueryJoinAuthoriser(ctx context.Context, roomID matrixid.RoomID, userID matrixid.UserID) (matrixid.UserID, error)

	// Server administration (the admin API).

	// SetRoomBlocked blocks or unblocks a room (known or not): in a
	// blocked room nobody may join, be invited or knock, locally or over
	// federation (CodeForbidden).
	SetRoomBlocked(ctx context.Context, roomID matrixid.RoomID, blocked bool, by matrixid.UserID) error
	// QueryRoomBlocked says whether a room is blocked, and by whom.
	QueryRoomBlocked(ctx context.Context, roomID matrixid.RoomID) (blocked bool, by matrixid.UserID, err error)
	// PurgeRoom deletes the room's events, state, memberships and aliases
	// and outputs OutputPurgeRoom so consumers delete theirs. Unknown
	// rooms are no error.
	PurgeRoom(ctx context.Context, roomID matrixid.RoomID) error
}
