package syncapi

import (
	"context"
	"encoding/json"
	"fmt"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// onRoomEventMsg applies one roomserver output in one transaction that
// also records the stream sequence, then wakes the affected users.
func (s *SyncAPI) onRoomEventMsg(ctx context.Context, msg stream.Message) error {
	var out rsapi.OutputEvent
	if err := json.Unmarshal(msg.Data, &out); err != nil {
		// A malformed message can never succeed: record it as applied.
		s.log.Error("malformed room event output; skipping", "seq", msg.Seq, "error", err)
		return s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			return storage.SetConsumerSeq(ctx, tx, stream.RoomEvents, msg.Seq)
		})
	}
	switch {
	case out.Type == rsapi.OutputTypeNewRoomEvent && out.NewRoomEvent != nil:
		return s.applyNewRoomEvent(ctx, msg.Seq, out.NewRoomEvent)
	case out.Type == rsapi.OutputTypeRedaction && out.Redaction != nil:
		return s.applyRedaction(ctx, msg.Seq, out.Redaction)
	}
	return s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		return storage.SetConsumerSeq(ctx, tx, stream.RoomEvents, msg.Seq)
	})
}

// ApplyNewRoomEvent is the consumer's effect for one event, exported to
// tests through applyNewRoomEvent with seq 0 meaning "no stream".
func (s *SyncAPI) applyNewRoomEvent(ctx context.Context, seq uint64, ore *rsapi.OutputNewRoomEvent) error {
	pdu, err := types.ParsePDU(ore.RoomVersion, ore.Event, false)
	if err != nil {
		s.log.Error("unparseable event in output; skipping", "event_id", ore.EventID, "error", err)
		return s.recordSeq(ctx, seq)
	}
	ev, err := types.EventFromPDU(pdu, ore.HistoryVisibility)
	if err != nil {
		return err
	}
	if ore.TransactionID != nil {
		ev.TxnDevice, ev.TxnID = ore.TransactionID.DeviceID, ore.TransactionID.TransactionID
	}
	added := map[string]*types.Event{ev.EventID: ev}
	for _, js := range ore.AddedStateEvents {
		p, err := types.ParsePDU(ore.RoomVersion, js, false)
		if err != nil {
			s.log.Warn("unparseable added state event", "room_id", ore.RoomID, "error", err)
			continue
		}
		a, err := types.EventFromPDU(p, "")
		if err != nil {
			continue
		}
		added[a.EventID] = a
	}
	adds, removes := ore.AddsStateEventIDs, ore.RemovesStateEventIDs
	if adds == nil && removes == nil && ev.IsState() {
		adds = []string{ev.EventID} // producer gave no delta: the event replaces its slot
	}
	var changes []storage.MembershipChange
	inserted := false
	err = s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		changes, inserted = nil, false
		if ev.HistoryVisibility == "" {
			ev.HistoryVisibility = s.currentHistoryVisibility(ctx, tx, ore.RoomID)
		}
		for id, a := range added {
			if id == ev.EventID {
				continue
			}
			if _, err := storage.InsertEvent(ctx, tx, a, false); err != nil {
				return err
			}
		}
		var err error
		if inserted, err = storage.InsertEvent(ctx, tx, ev, true); err != nil {
			return err
		}
		if !inserted {
			return s.setSeq(ctx, tx, seq)
		}
		addEvents := make([]*types.Event, 0, len(adds))
		for _, id := range adds {
			a := added[id]
			if a == nil {
				if a, err = s.db.EventByID(ctx, tx, id); err != nil {
					return err
				}
			}
			if a == nil {
				s.log.Warn("state delta names an unknown event", "room_id", ore.RoomID, "event_id", id)
				continue
			}
			addEvents = append(addEvents, a)
		}
		if changes, err = storage.ApplyStateDelta(ctx, tx, ore.RoomID, ev.Pos, removes, addEvents); err != nil {
			return err
		}
		if err := s.recordNotifications(ctx, tx, ev); err != nil {
			return fmt.Errorf("notifications: %w", err)
		}
		return s.setSeq(ctx, tx, seq)
	})
	if err != nil || !inserted {
		return err
	}
	if len(adds) > 0 || len(removes) > 0 {
		s.cache.invalidate(ore.RoomID)
	}
	memberships := make(map[string]string, len(changes))
	for _, c := range changes {
		memberships[c.UserID] = c.Membership
	}
	s.notif.OnRoomEvent(ore.RoomID, ev.Pos, memberships)
	s.presenceActivity(ctx, ev.Sender)
	return nil
}

func (s *SyncAPI) currentHistoryVisibility(ctx context.Context, q istorage.Querier, roomID string) string {
	var js string
	err := q.QueryRowContext(ctx, `SELECT e.json FROM syncapi_current_state s JOIN syncapi_events e ON e.event_id = s.event_id
		WHERE s.room_id = $1 AND s.type = 'm.room.history_visibility' AND s.state_key = ''`, roomID).Scan(&js)
	if err != nil {
		return rsapi.VisibilityShared
	}
	var c struct {
		Content struct {
			HistoryVisibility string `json:"history_visibility"`
		} `json:"content"`
	}
	if json.Unmarshal([]byte(js), &c) != nil || c.Content.HistoryVisibility == "" {
		return rsapi.VisibilityShared
	}
	return c.Content.HistoryVisibility
}

func (s *SyncAPI) applyRedaction(ctx context.Context, seq uint64, r *rsapi.OutputRedaction) error {
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		target, err := s.db.EventByID(ctx, tx, r.RedactedEventID)
		if err != nil {
			return err
		}
		if target == nil || target.Redacted {
			return s.setSeq(ctx, tx, seq)
		}
		pdu, err := types.ParsePDU(target.RoomVersion, r.RedactedEvent, true)
		if err != nil {
			s.log.Error("unparseable redacted event; skipping", "event_id", r.RedactedEventID, "error", err)
			return s.setSeq(ctx, tx, seq)
		}
		extra := map[string]any{}
		if redaction, err := s.db.EventByID(ctx, tx, r.RedactionEventID); err == nil && redaction != nil {
			extra["redacted_because"] = json.RawMessage(redaction.JSON)
		}
		js, err := types.ToClientJSON(pdu, extra)
		if err != nil {
			return err
		}
		if err := storage.UpdateEventJSON(ctx, tx, r.RedactedEventID, js, true); err != nil {
			return err
		}
		return s.setSeq(ctx, tx, seq)
	})
	if err == nil {
		s.cache.invalidate(r.RoomID)
	}
	return err
}

func (s *SyncAPI) setSeq(ctx context.Context, tx *istorage.Tx, seq uint64) error {
	if seq == 0 {
		return nil
	}
	return storage.SetConsumerSeq(ctx, tx, stream.RoomEvents, seq)
}

func (s *SyncAPI) recordSeq(ctx context.Context, seq uint64) error {
	return s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return s.setSeq(ctx, tx, seq) })
}
