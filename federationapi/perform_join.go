package federationapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// roomLocks serialises remote joins/leaves per room, so two users joining
// the same new room at once do not both import it.
type roomLocks struct{ m sync.Map }

func (l *roomLocks) lock(roomID string) func() {
	v, _ := l.m.LoadOrStore(roomID, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// PerformJoin implements fedapi.FederationAPI.
func (f *FederationAPI) PerformJoin(ctx context.Context, req *fedapi.PerformJoinRequest) (*fedapi.PerformJoinResponse, error) {
	roomID, candidates, content, ferr := f.remoteTarget(ctx, req, spec.Join)
	if ferr != nil {
		return nil, ferr
	}
	defer f.joinLocks.lock(roomID)()
	var last *fedapi.Error
	for _, server := range candidates {
		eventID, err := f.joinVia(ctx, server, roomID, req.UserID, content)
		if err == nil {
			return &fedapi.PerformJoinResponse{RoomID: roomID, EventID: eventID}, nil
		}
		last = remoteError(server, err)
		f.base.Log.Info("remote join failed", "room_id", roomID, "server", server, "error", last.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// remoteTarget checks a join or knock request: it resolves an alias, and
// returns the room ID, the servers to try (given ones and the alias's,
// else the room ID's domain) and the membership content.
func (f *FederationAPI) remoteTarget(ctx context.Context, req *fedapi.PerformJoinRequest, membership string) (string, []spec.ServerName, map[string]any, *fedapi.Error) {
	roomID := req.RoomIDOrAlias
	servers := req.ServerNames
	if strings.HasPrefix(roomID, "#") {
		ra, err := f.QueryRoomAlias(ctx, roomID)
		if err != nil {
			return "", nil, nil, remoteError(domainOf(roomID), err)
		}
		roomID = ra.RoomID
		servers = append(append([]string{}, servers...), ra.Servers...)
	}
	if _, err := spec.NewRoomID(roomID); err != nil {
		return "", nil, nil, fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "invalid room ID %q", roomID)
	}
	if _, err := spec.NewUserID(req.UserID, true); err != nil || domainOf(req.UserID) != f.id.ServerName {
		return "", nil, nil, fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "can only %s for local users", membership)
	}
	if blocked, _, err := f.rooms.QueryRoomBlocked(ctx, matrixid.RoomID(roomID)); err != nil {
		return "", nil, nil, fedErr(http.StatusInternalServerError, "M_UNKNOWN", "could not check the room: %v", err)
	} else if blocked {
		return "", nil, nil, fedErr(http.StatusForbidden, "M_FORBIDDEN", "This room has been blocked on this server")
	}
	content := map[string]any{}
	if len(req.Content) > 0 {
		_ = json.Unmarshal(req.Content, &content)
	}
	content["membership"] = membership
	// The room ID's server only when no other is known: a client naming
	// servers (via) means those, and a join that fails through them must
	// fail (a restricted room's servers may refuse to vouch).
	candidates := f.candidates(servers)
	if len(candidates) == 0 {
		candidates = f.candidates([]string{string(domainOf(roomID))})
	}
	if len(candidates) == 0 {
		return "", nil, nil, fedErr(http.StatusNotFound, "M_NOT_FOUND", "no server to %s %s through", membership, roomID)
	}
	return roomID, candidates, content, nil
}

// joinVia runs make_join/send_join against one server and imports the
// room: auth chain and state as outliers, then the join with that state.
func (f *FederationAPI) joinVia(ctx context.Context, server spec.ServerName, roomID, userID string, content map[string]any) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	mj, err := f.makeJoin(ctx, server, roomID, userID)
	if err != nil {
		return "", err
	}
	ver, ferr := roomVersion(mj.RoomVersion)
	if ferr != nil {
		return "", ferr
	}
	proto := mj.JoinEvent
	proto.Type, proto.RoomID, proto.SenderID, proto.StateKey, proto.Redacts = spec.MRoomMember, roomID, userID, &userID, ""
	join, err := f.buildSigned(ver, proto, content)
	if err != nil {
		return "", fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s sent an unusable join template: %v", server, err)
	}
	sj, err := f.Client.SendJoin(ctx, f.id.ServerName, server, join)
	if err != nil {
		return "", err
	}
	// The resident server may add its signature (restricted joins).
	if len(sj.Event) > 0 {
		if signed, err := ver.NewEventFromUntrustedJSON(sj.Event); err == nil && signed.EventID() == join.EventID() {
			join = signed
		}
	}
	return join.EventID(), f.importRoom(ctx, server, ver, join, &fclient.RespState{StateEvents: sj.StateEvents, AuthEvents: sj.AuthEvents})
}

// importRoom checks a state response (signatures via the key ring, auth
// rules) and hands it to the roomserver with ev, whose state before it is.
func (f *FederationAPI) importRoom(ctx context.Context, server spec.ServerName, ver gomatrixserverlib.IRoomVersion, ev gomatrixserverlib.PDU, state gomatrixserverlib.StateResponse) error {
	var fetched []gomatrixserverlib.PDU
	provider := func(_ gomatrixserverlib.RoomVersion, ids []string) ([]gomatrixserverlib.PDU, error) {
		var out []gomatrixserverlib.PDU
		for _, id := range ids {
			e, err := f.fetchEvent(ctx, server, ver, id)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		fetched = append(fetched, out...)
		return out, nil
	}
	authEvents, stateEvents, err := gomatrixserverlib.CheckSendJoinResponseEvents(ctx, ver.Version(), state, f.ring, ev, provider, userIDForSender)
	if err != nil {
		return fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s sent an invalid room state: %v", server, err)
	}
	all := append(fetched, linearise(authEvents, stateEvents)...)
	stateIDs := make([]string, 0, len(stateEvents))
	for _, e := range stateEvents {
		stateIDs = append(stateIDs, e.EventID())
	}
	in := make([]rsapi.InputRoomEvent, 0, len(all)+1)
	// The create event first: for a new room it creates the room.
	seen := map[string]bool{}
	for pass := 0; pass < 2; pass++ {
		for _, e := range all {
			isCreate := e.Type() == spec.MRoomCreate && e.StateKeyEquals("")
			if (pass == 0) != isCreate || seen[e.EventID()] || e.EventID() == ev.EventID() {
				continue
			}
			seen[e.EventID()] = true
			in = append(in, rsapi.InputRoomEvent{Kind: rsapi.KindOutlier, Event: rsapi.NewEvent(e)})
		}
	}
	outliers, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: in})
	if err != nil {
		return err
	}
	// A state event that could not be stored (its auth events failed
	// their signature checks, say) is left out of the state rather than
	// blocking the join.
	unstored := map[string]bool{}
	for i, r := range outliers.Results {
		if r.Err != nil && !r.Duplicate && i < len(in) {
			unstored[in[i].Event.PDU.EventID()] = true
		}
	}
	if len(unstored) > 0 {
		f.base.Log.Info("room state from the resident server has events we cannot store; left out", "room_id", ev.RoomID().String(), "server", server, "count", len(unstored))
		stateIDs = slices.DeleteFunc(stateIDs, func(id string) bool { return unstored[id] })
	}
	// The resident server took ev through send_join and passes it to the
	// room's other servers (SendAsServer): we must not send it again,
	// least of all to the resident server, whose first event from us
	// would then be its own copy of our join.
	resp, err := f.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{
		{Kind: rsapi.KindNew, Event: rsapi.NewEvent(ev), HasState: true, StateEventIDs: stateIDs, SendAsServer: string(server)},
	}})
	if err != nil {
		return err
	}
	if n := len(resp.Results); n == 0 || resp.Results[n-1].Err != nil {
		msg := "no result"
		if n > 0 {
			msg = resp.Results[n-1].Err.Error()
		}
		return fedErr(http.StatusForbidden, "M_FORBIDDEN", "the room state from %s does not allow the event: %s", server, msg)
	}
	return nil
}

// linearise orders the checked auth and state events (each once) so
// that every event comes after its auth events.
func linearise(authEvents, stateEvents []gomatrixserverlib.PDU) []gomatrixserverlib.PDU {
	seen := make(map[string]bool, len(authEvents)+len(stateEvents))
	all := make([]gomatrixserverlib.PDU, 0, len(authEvents)+len(stateEvents))
	for _, evs := range [][]gomatrixserverlib.PDU{authEvents, stateEvents} {
		for _, e := range evs {
			if !seen[e.EventID()] {
				seen[e.EventID()] = true
				all = append(all, e)
			}
		}
	}
	return authOrder(all)
}
