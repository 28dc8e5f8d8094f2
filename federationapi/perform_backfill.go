package federationapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Backfill implements fedapi.FederationAPI: history before fromEventIDs
// from the first joined server that has it, input oldest first as
// KindBackfill (the oldest with its state from /state_ids). The
// roomserver outputs them as backfill, which syncapi stores before the
// room's known history; syncapi's /messages calls this when a client
// pages past the oldest event it has.
func (f *FederationAPI) Backfill(ctx context.Context, roomID matrixid.RoomID, fromEventIDs []matrixid.EventID, limit int) (int, error) {
	v, err := f.rooms.QueryRoomVersion(ctx, roomID)
	if err != nil {
		return 0, err
	}
	ver, ferr := roomVersion(gomatrixserverlib.RoomVersion(v))
	if ferr != nil {
		return 0, ferr
	}
	limit = min(max(limit, 1), maxBackfill)
	var last error = fedErr(http.StatusNotFound, "M_NOT_FOUND", "no server to backfill %s from", roomID)
	for _, server := range f.candidates(f.roomServers(ctx, string(roomID)), []string{string(domainOf(string(roomID)))}) {
		n, err := f.backfillFrom(ctx, server, ver, string(roomID), matrixid.Strings(fromEventIDs), limit)
		if err == nil {
			return n, nil
		}
		last = remoteError(server, err)
	}
	return 0, last
}

func (f *FederationAPI) backfillFrom(ctx context.Context, server spec.ServerName, ver gomatrixserverlib.IRoomVersion, roomID string, from []string, limit int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, performTimeout)
	defer cancel()
	txn, err := f.Client.Backfill(ctx, f.id.ServerName, server, roomID, limit, from)
	if err != nil {
		return 0, err
	}
	var evs []gomatrixserverlib.PDU
	for _, raw := range txn.PDUs {
		e, err := ver.NewEventFromUntrustedJSON(raw)
		if err != nil || e.RoomID().String() != roomID {
			continue
		}
		if gomatrixserverlib.VerifyEventSignatures(ctx, e, f.ring, userIDForSender) == nil {
			evs = append(evs, e)
		}
	}
	slices.SortStableFunc(evs, func(a, b gomatrixserverlib.PDU) int { return int(a.Depth() - b.Depth()) })
	n := 0
	for _, e := range evs {
		res := f.inputPDUs(ctx, rsapi.KindBackfill, []gomatrixserverlib.PDU{e})[0]
		if len(res.MissingAuthEvents) > 0 {
			f.fetchAuthEvents(ctx, server, ver, e, res.MissingAuthEvents)
			res = f.inputPDUs(ctx, rsapi.KindBackfill, []gomatrixserverlib.PDU{e})[0]
		}
		if needsFetch(res) {
			res = f.inputWithRemoteState(ctx, server, ver, e, rsapi.KindBackfill)
		}
		if res.Err == nil && !res.Duplicate {
			n++
		}
	}
	return n, nil
}
