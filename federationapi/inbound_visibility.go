package federationapi

import (
	"context"
	"encoding/json"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// redactInvisible replaces the events origin may not see under the room's
// history visibility (rsapi.ServerHistoryVisible) with their redacted
// copies, so the DAG stays whole for it but their content does not leak.
func (f *FederationAPI) redactInvisible(ctx context.Context, origin spec.ServerName, roomID string, evs []*rsapi.Event) ([]*rsapi.Event, error) {
	out := make([]*rsapi.Event, len(evs))
	for i, ev := range evs {
		visible, err := f.serverSees(ctx, origin, roomID, ev)
		if err != nil {
			return nil, err
		}
		if visible {
			out[i] = ev
			continue
		}
		if out[i], err = redactedCopy(ev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *FederationAPI) serverSees(ctx context.Context, origin spec.ServerName, roomID string, ev *rsapi.Event) (bool, error) {
	before, err := f.rooms.QueryStateBeforeEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(ev.EventID()))
	if err != nil {
		return false, err
	}
	visibility := ""
	var memberships []string
	for _, s := range before {
		switch {
		case s.Type() == spec.MRoomHistoryVisibility && s.StateKeyEquals(""):
			var c struct {
				HistoryVisibility string `json:"history_visibility"`
			}
			_ = json.Unmarshal(s.Content(), &c)
			visibility = c.HistoryVisibility
		case s.Type() == spec.MRoomMember && s.StateKey() != nil && domainOf(*s.StateKey()) == origin:
			m, _ := s.Membership()
			memberships = append(memberships, m)
		}
	}
	return rsapi.ServerHistoryVisible(visibility, memberships), nil
}

func redactedCopy(ev *rsapi.Event) (*rsapi.Event, error) {
	ver, err := gomatrixserverlib.GetRoomVersion(ev.Version())
	if err != nil {
		return nil, err
	}
	raw, err := ver.RedactEventJSON(ev.JSON())
	if err != nil {
		return nil, err
	}
	pdu, err := ver.NewEventFromTrustedJSON(raw, true)
	if err != nil {
		return nil, err
	}
	return rsapi.NewEvent(pdu), nil
}
