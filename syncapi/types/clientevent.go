package types

import (
	"encoding/json"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// ToClientJSON formats a PDU for clients with the roomserver's shared
// formatter. unsigned fields in extra are merged in. The age field is
// dropped: stored JSON would make it stale.
func ToClientJSON(pdu gomatrixserverlib.PDU, extra map[string]any) ([]byte, error) {
	return json.Marshal(rsapi.ToClientEvent(pdu, rsapi.FormatOptions{ExtraUnsigned: extra, OmitAge: true}))
}

// EventFromPDU builds the stored form of pdu.
func EventFromPDU(pdu gomatrixserverlib.PDU, historyVisibility string) (*Event, error) {
	js, err := ToClientJSON(pdu, nil)
	if err != nil {
		return nil, fmt.Errorf("format event %s: %w", pdu.EventID(), err)
	}
	ev := &Event{
		EventID:           pdu.EventID(),
		RoomID:            pdu.RoomID().String(),
		Type:              pdu.Type(),
		Sender:            string(pdu.SenderID()),
		StateKey:          pdu.StateKey(),
		OriginTS:          int64(pdu.OriginServerTS()),
		JSON:              js,
		RoomVersion:       string(pdu.Version()),
		HistoryVisibility: historyVisibility,
		Redacted:          pdu.Redacted(),
	}
	content := gjson.ParseBytes(pdu.Content())
	if pdu.Type() == spec.MRoomMember {
		ev.Membership = content.Get("membership").String()
	}
	rel := content.Get(`m\.relates_to`)
	ev.RelatesTo = rel.Get("event_id").String()
	ev.RelType = rel.Get("rel_type").String()
	if ev.RelType == "m.thread" && ev.RelatesTo != "" {
		ev.ThreadID = ev.RelatesTo
	}
	if u := content.Get("url"); u.Type == gjson.String && u.String() != "" {
		ev.ContainsURL = true
	}
	return ev, nil
}

// ParsePDU parses trusted PDU JSON of the given room version.
func ParsePDU(roomVersion string, js []byte, redacted bool) (gomatrixserverlib.PDU, error) {
	return ParsePDUWithID(roomVersion, "", js, redacted)
}

// ParsePDUWithID is ParsePDU for an event whose ID the sender already
// computed (the roomserver's output carries it): hashing the event again
// to derive the ID cost ~4% of server CPU under a send load.
func ParsePDUWithID(roomVersion, eventID string, js []byte, redacted bool) (gomatrixserverlib.PDU, error) {
	verImpl, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(roomVersion))
	if err != nil {
		return nil, err
	}
	if eventID != "" {
		return verImpl.NewEventFromTrustedJSONWithEventID(eventID, js, redacted)
	}
	return verImpl.NewEventFromTrustedJSON(js, redacted)
}
