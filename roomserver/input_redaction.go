package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib"

	"github.com/axon-hs/axon/roomserver/api"
)

// applyRedaction strips the target of an accepted redaction (per its room
// version's redaction algorithm), records unsigned.redacted_because, and
// outputs the redacted event. A redaction whose target is unknown or in
// another room does nothing; one whose sender lacks the right does
// nothing either (the spec lets servers store such redactions).
func (r *RoomServer) applyRedaction(ctx context.Context, b *batch, redaction gomatrixserverlib.PDU) error {
	targetID := api.RedactsOf(redaction)
	if targetID == "" {
		return nil
	}
	evs, err := r.eventsByID(ctx, b.tx, b.rm.version, []string{targetID})
	if err != nil {
		return err
	}
	t := evs[targetID]
	if t == nil || t.roomNID != b.rm.nid || t.pdu.Redacted() {
		return nil
	}
	if !sameServer(string(t.pdu.SenderID()), string(redaction.SenderID())) {
		pl, err := r.powerLevels(ctx, b)
		if err != nil {
			return err
		}
		if pl.UserLevel(string(redaction.SenderID())) < pl.Redact {
			return nil
		}
	}
	redacted, err := b.rm.version.NewEventFromTrustedJSONWithEventID(targetID, t.pdu.JSON(), false)
	if err != nil {
		return err
	}
	redacted.Redact()
	because := api.ToClientEvent(redaction, api.FormatOptions{})
	because.Unsigned = nil
	if err := redacted.SetUnsignedField("redacted_because", because); err != nil {
		return err
	}
	if err := r.db.UpdateEventJSON(ctx, b.tx, t.nid, redacted.JSON(), redaction.EventID()); err != nil {
		return err
	}
	r.events.put(t.nid, &stored{nid: t.nid, roomNID: t.roomNID, snapshotNID: t.snapshotNID, status: t.status, pdu: redacted})
	b.outputs = append(b.outputs, api.OutputEvent{Type: api.OutputTypeRedaction, Redaction: &api.OutputRedaction{
		RoomID: b.rm.id, RedactedEventID: targetID, RedactionEventID: redaction.EventID(), RedactedEvent: redacted.JSON(),
	}})
	return nil
}

func sameServer(a, b string) bool {
	return serverOf(a) == serverOf(b) && serverOf(a) != ""
}

func serverOf(userID string) string {
	for i := 0; i < len(userID); i++ {
		if userID[i] == ':' {
			return userID[i+1:]
		}
	}
	return ""
}
