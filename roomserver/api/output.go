package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axon-hs/axon/internal/matrixid"
)

// OutputType says which field of an OutputEvent is set.
type OutputType string

const (
	OutputTypeNewRoomEvent OutputType = "new_room_event"
	OutputTypeRedaction    OutputType = "redaction"
	// OutputTypeBackfill: a historical event stored by backfill.
	OutputTypeBackfill OutputType = "backfill"
	// OutputTypeForget: a user forgot a room they had left (/forget).
	OutputTypeForget OutputType = "forget"
	// OutputTypePurgeRoom: the room was deleted (admin API); consumers
	// delete everything they hold of it.
	OutputTypePurgeRoom OutputType = "purge_room"
)

// OutputEvent is one message on the room_events stream, written by the
// roomserver in per-room order after the event is committed. Consumers
// (syncapi, the federation sender) apply them in
// stream order.
type OutputEvent struct {
	Type         OutputType          `json:"type"`
	NewRoomEvent *OutputNewRoomEvent `json:"new_room_event,omitempty"`
	Redaction    *OutputRedaction    `json:"redaction,omitempty"`
	Backfill     *OutputBackfill     `json:"backfill,omitempty"`
	Forget       *OutputForget       `json:"forget,omitempty"`
	PurgeRoom    *OutputPurgeRoom    `json:"purge_room,omitempty"`
}

// OutputPurgeRoom names a room the roomserver has deleted: its events,
// state and memberships are gone, and consumers drop their copies. It is
// the room's last output unless the room is joined again.
type OutputPurgeRoom struct {
	RoomID string `json:"room_id"`
}

// OutputNewRoomEvent is an accepted event (not rejected; soft-failed
// events are not sent). State deltas say how the room's current state
// changed because of it.
type OutputNewRoomEvent struct {
	RoomID      string `json:"room_id"`
	RoomVersion string `json:"room_version"`
	EventID     string `json:"event_id"`
	// Event is the full PDU JSON as stored (room-version format, signed).
	Event json.RawMessage `json:"event"`
	// AddsStateEventIDs / RemovesStateEventIDs: the change to current state.
	// For a local state event this is usually just itself (and the event it
	// replaced); after a fork merge it may be many.
	AddsStateEventIDs    []string `json:"adds_state_event_ids,omitempty"`
	RemovesStateEventIDs []string `json:"removes_state_event_ids,omitempty"`
	// AddedStateEvents holds the PDUs of state events in AddsStateEventIDs
	// that were never output before (e.g. state learned over federation),
	// so consumers need not query the roomserver for them.
	AddedStateEvents []json.RawMessage `json:"added_state_events,omitempty"`
	// AddedStateEventIDs names AddedStateEvents, entry by entry, so that
	// consumers need not hash thousands of events (a join over federation
	// adds a room's whole state) to learn their IDs. Outputs written
	// before it existed lack it; ParseAddedStateEvent copes.
	AddedStateEventIDs []string `json:"added_state_event_ids,omitempty"`
	// StateDelta, when set, stands for the four fields above, left out
	// because the change is big (a join over federation adds a room's
	// whole state: carried whole, the output was tens of MB, copied
	// several times over by NATS). Consumers read it with
	// FetchStateDelta, as of this output.
	StateDelta *StateDeltaRef `json:"state_delta,omitempty"`
	// HistoryVisibility in force for this event.
	HistoryVisibility string `json:"history_visibility,omitempty"`
	// TransactionID is set for events sent by a local client with a txnId,
	// so /sync can echo unsigned.transaction_id to that device only.
	TransactionID *TransactionID `json:"transaction_id,omitempty"`
	// SendAsServer is set when a local event must be federated.
	SendAsServer string `json:"send_as_server,omitempty"`
	// HistoryGap: some of the event's prev events are unknown here (it
	// came with its state given, over a gap this server could not fill),
	// so history before it is missing; /sync reports the gap as limited.
	HistoryGap bool `json:"history_gap,omitempty"`
}

// StateDeltaRef names a state change by the roomserver's state
// snapshots before and after it. Snapshots never change once written, so
// the delta read from them is the one of this output however far the
// room has moved on since.
type StateDeltaRef struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
	// AddsEvent: the output's own event is among the added state (what
	// a consumer checking only that need not fetch the delta for).
	AddsEvent bool `json:"adds_event,omitempty"`
}

// StateDelta is a state change read back from snapshots: the fields
// OutputNewRoomEvent would have carried, except that AddedStateEvents[i]
// is the PDU of AddsStateEventIDs[i] (the output's own event included).
type StateDelta struct {
	AddsStateEventIDs    []string          `json:"adds_state_event_ids,omitempty"`
	RemovesStateEventIDs []string          `json:"removes_state_event_ids,omitempty"`
	AddedStateEvents     []json.RawMessage `json:"added_state_events,omitempty"`
}

// StateDeltaQuerier reads a state change an output left out.
type StateDeltaQuerier interface {
	QueryStateDelta(ctx context.Context, roomID matrixid.RoomID, ref StateDeltaRef) (*StateDelta, error)
}

// FetchStateDelta fills in the state change the output left out (see
// StateDelta); it does nothing for an output that carries its own.
func (o *OutputNewRoomEvent) FetchStateDelta(ctx context.Context, q StateDeltaQuerier) error {
	if o.StateDelta == nil {
		return nil
	}
	d, err := q.QueryStateDelta(ctx, matrixid.RoomID(o.RoomID), *o.StateDelta)
	if err != nil {
		return fmt.Errorf("state delta of %s: %w", o.EventID, err)
	}
	if len(d.AddedStateEvents) != len(d.AddsStateEventIDs) {
		return fmt.Errorf("state delta of %s: %d events for %d IDs", o.EventID, len(d.AddedStateEvents), len(d.AddsStateEventIDs))
	}
	o.AddsStateEventIDs, o.RemovesStateEventIDs = d.AddsStateEventIDs, d.RemovesStateEventIDs
	o.AddedStateEvents = make([]json.RawMessage, 0, len(d.AddedStateEvents))
	o.AddedStateEventIDs = make([]string, 0, len(d.AddedStateEvents))
	for i, js := range d.AddedStateEvents {
		if id := d.AddsStateEventIDs[i]; id != o.EventID {
			o.AddedStateEvents = append(o.AddedStateEvents, js)
			o.AddedStateEventIDs = append(o.AddedStateEventIDs, id)
		}
	}
	o.StateDelta = nil
	return nil
}

// TransactionID identifies the client request that sent an event.
type TransactionID struct {
	DeviceID      string `json:"device_id"`
	TransactionID string `json:"txn_id"`
}

// OutputRedaction tells consumers to redact a stored event.
type OutputRedaction struct {
	RoomID           string `json:"room_id"`
	RedactedEventID  string `json:"redacted_event_id"`
	RedactionEventID string `json:"redaction_event_id"`
	// RedactedEvent is the redacted PDU JSON to store in place.
	RedactedEvent json.RawMessage `json:"redacted_event"`
}

// OutputBackfill is a historical event input as KindBackfill (fetched
// from another server for history before what this server has). It does
// not change current state and is not new: consumers place it in the
// room's history (syncapi: /messages), never in live streams.
type OutputBackfill struct {
	RoomID      string          `json:"room_id"`
	RoomVersion string          `json:"room_version"`
	EventID     string          `json:"event_id"`
	Event       json.RawMessage `json:"event"`
	// Depth orders backfilled events: an older event has a lower depth.
	Depth int64 `json:"depth"`
	// HistoryVisibility in force for this event (the state before it).
	HistoryVisibility string `json:"history_visibility,omitempty"`
}

// OutputForget says UserID forgot RoomID: the membership event
// MembershipEventID (a leave or ban) is the one forgotten, so a consumer
// that already holds a newer membership ignores it. It is not part of
// the room's history (no stream position of its own in /sync).
type OutputForget struct {
	RoomID            string `json:"room_id"`
	UserID            string `json:"user_id"`
	MembershipEventID string `json:"membership_event_id"`
}

// ParseAddedStateEvent parses AddedStateEvents[i], named from
// AddedStateEventIDs when the output carries them.
func (o *OutputNewRoomEvent) ParseAddedStateEvent(i int) (*Event, error) {
	if len(o.AddedStateEventIDs) != len(o.AddedStateEvents) {
		return ParseEvent(o.RoomVersion, o.AddedStateEvents[i])
	}
	return ParseEventWithID(o.RoomVersion, o.AddedStateEventIDs[i], o.AddedStateEvents[i])
}
