package federationapi

import (
	"context"
	"errors"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// roomAccess checks an inbound request about roomID: the room must be
// known here (404) and its server ACL must allow the origin (403). With
// member set the origin must also have a joined user in the room (403).
// It returns the room version.
func (f *FederationAPI) roomAccess(ctx context.Context, roomID string, origin spec.ServerName, member bool) (gomatrixserverlib.IRoomVersion, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (gomatrixserverlib.IRoomVersion, *httputil.JSONResponse) { return nil, &r }
	if _, err := spec.NewRoomID(roomID); err != nil {
		return fail(httputil.InvalidParam("Invalid room ID"))
	}
	v, err := f.rooms.QueryRoomVersion(ctx, matrixid.RoomID(roomID))
	if err != nil {
		if errors.Is(err, rsapi.ErrRoomNotFound) {
			return fail(httputil.NotFound("Unknown room %s", roomID))
		}
		return fail(f.internal("room version", err))
	}
	ver, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(v))
	if err != nil {
		return fail(f.internal("room version", err))
	}
	if f.aclDenies(ctx, roomID, origin) {
		return fail(httputil.Forbidden("Server %s is denied by the room's server ACL", origin))
	}
	if member {
		in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(roomID), string(origin))
		if err != nil {
			return fail(f.internal("server in room", err))
		}
		if !in {
			return fail(httputil.Forbidden("Server %s is not in room %s", origin, roomID))
		}
	}
	return ver, nil
}

// authChain walks auth_events from events, returning every ancestor we
// have (not the events themselves unless reached through another).
func (f *FederationAPI) authChain(ctx context.Context, events []*rsapi.Event) ([]*rsapi.Event, error) {
	seen := map[string]bool{}
	var frontier []string
	for _, e := range events {
		for _, id := range e.AuthEventIDs() {
			if !seen[id] {
				seen[id] = true
				frontier = append(frontier, id)
			}
		}
	}
	var out []*rsapi.Event
	for len(frontier) > 0 {
		found, err := f.rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](frontier))
		if err != nil {
			return nil, err
		}
		frontier = nil
		for _, e := range found {
			out = append(out, e)
			for _, id := range e.AuthEventIDs() {
				if !seen[id] {
					seen[id] = true
					frontier = append(frontier, id)
				}
			}
		}
	}
	return out, nil
}

func eventJSONs(evs []*rsapi.Event) []spec.RawJSON {
	out := make([]spec.RawJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, spec.RawJSON(e.JSON()))
	}
	return out
}

func eventIDs(evs []*rsapi.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.EventID())
	}
	return out
}
