package syncapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib/spec"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// onRoomEventBatch applies consecutive roomserver outputs in one
// transaction that also records the last stream sequence, then runs each
// output's effects (cache invalidation, wakeups) in order.
func (s *SyncAPI) onRoomEventBatch(ctx context.Context, msgs []stream.Message) error {
	outs := make([]*rsapi.OutputEvent, 0, len(msgs))
	for _, msg := range msgs {
		var out rsapi.OutputEvent
		if err := rsapi.DecodeOutput(msg.Data, &out); err != nil {
			// A malformed message can never succeed: dead-letter it.
			return stream.Poison(fmt.Errorf("malformed room event output (seq %d): %w", msg.Seq, err))
		}
		// A big state change is read from the roomserver (as of the
		// output), before the write transaction is open.
		if out.NewRoomEvent != nil {
			if err := out.NewRoomEvent.FetchStateDelta(ctx, s.rooms); err != nil {
				return err
			}
		}
		outs = append(outs, &out)
	}
	return s.applyRoomOutputs(ctx, outs, msgs[len(msgs)-1].Seq)
}

// roomBatch is one transaction's worth of outputs being applied.
type roomBatch struct {
	s  *SyncAPI
	tx *istorage.Tx
	// states holds the state of rooms changed earlier in this
	// transaction (the cache and the reader pool only see committed
	// state).
	states map[string]*roomState
	after  []func() // effects to run after commit, in output order
	// erased is the set of erased users, fixed for the batch.
	erased map[string]bool
	// pos holds the PDU positions reserved for the batch's new events.
	pos *storage.Positions
	// events stores the timeline events of a batch of several (nil: one).
	events *storage.EventBatch
	// shared holds a lone event's shared notification until the next
	// flushEvents: the last goes with the commit.
	shared sharedAtFlush
}

// sharedAtFlush keeps shared notifications for roomBatch.flushEvents.
type sharedAtFlush []storage.SharedNotification

func (p *sharedAtFlush) InsertSharedNotification(_ context.Context, _ *istorage.Tx, n storage.SharedNotification) error {
	*p = append(*p, n)
	return nil
}

func (s *SyncAPI) applyRoomOutputs(ctx context.Context, outs []*rsapi.OutputEvent, seq uint64) error {
	var b *roomBatch
	s.erased.mu.RLock()
	erased := s.erased.set
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		b = &roomBatch{s: s, tx: tx, states: map[string]*roomState{}, erased: erased}
		var ids []string
		for _, out := range outs {
			if out.Type == rsapi.OutputTypeNewRoomEvent && out.NewRoomEvent != nil {
				ids = append(ids, out.NewRoomEvent.EventID)
			}
		}
		if len(ids) > 1 { // one event: InsertEvent takes its position anyway
			var err error
			if b.pos, err = s.db.ReservePositions(ctx, tx, storage.CounterPDU, len(ids)); err != nil {
				return err
			}
			if b.events, err = s.db.NewEventBatch(ctx, tx, b.pos, ids); err != nil {
				return err
			}
		}
		for _, out := range outs {
			isNew := out.Type == rsapi.OutputTypeNewRoomEvent && out.NewRoomEvent != nil
			if !isNew {
				// What follows may read the batch's events.
				if err := b.flushEvents(ctx, false); err != nil {
					return err
				}
			}
			var err error
			switch {
			case isNew:
				err = b.newRoomEvent(ctx, out.NewRoomEvent)
			case out.Type == rsapi.OutputTypeRedaction && out.Redaction != nil:
				err = b.redaction(ctx, out.Redaction)
			case out.Type == rsapi.OutputTypeBackfill && out.Backfill != nil:
				err = b.backfill(ctx, out.Backfill)
			case out.Type == rsapi.OutputTypePurgeRoom && out.PurgeRoom != nil:
				err = b.purgeRoom(ctx, out.PurgeRoom.RoomID)
			case out.Type == rsapi.OutputTypeForget && out.Forget != nil:
				f := out.Forget
				err = s.db.SetForgotten(ctx, tx, f.UserID, f.RoomID, f.MembershipEventID)
			}
			if err != nil {
				return err
			}
		}
		if err := b.flushEvents(ctx, true); err != nil {
			return err
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.RoomEvents, seq)
	})
	s.erased.mu.RUnlock()
	if err != nil {
		return err
	}
	for _, f := range b.after {
		f()
	}
	return nil
}

// stateBefore is the room's state as of the transaction so far: the
// committed state, with the batch's deltas applied in memory (reading it
// back after every state event made the consumer fall behind when
// member events came quickly, e.g. profile changes).
func (b *roomBatch) stateBefore(ctx context.Context, roomID string) (*roomState, error) {
	if rs := b.states[roomID]; rs != nil {
		return rs, nil
	}
	return b.s.cache.get(ctx, roomID)
}

func (b *roomBatch) newRoomEvent(ctx context.Context, ore *rsapi.OutputNewRoomEvent) error {
	s, tx := b.s, b.tx
	pdu, err := types.ParsePDUWithID(ore.RoomVersion, ore.EventID, ore.Event, false)
	if err != nil {
		s.log.Error("unparseable event in output; skipping", "event_id", ore.EventID, "error", err)
		return nil
	}
	ev, err := types.EventFromPDU(pdu, ore.HistoryVisibility)
	if err != nil {
		return err
	}
	ev.HistoryGap = ore.HistoryGap
	if ore.TransactionID != nil {
		ev.TxnDevice, ev.TxnID = ore.TransactionID.DeviceID, ore.TransactionID.TransactionID
	}
	if err := eraseIfErased(ev, b.erased); err != nil {
		return err
	}
	addedList := s.parseAddedState(ore, ev.EventID)
	added := make(map[string]*types.Event, len(addedList)+1)
	for _, a := range addedList {
		added[a.EventID] = a
	}
	added[ev.EventID] = ev
	adds, removes := ore.AddsStateEventIDs, ore.RemovesStateEventIDs
	if adds == nil && removes == nil && ev.IsState() {
		adds = []string{ev.EventID} // producer gave no delta: the event replaces its slot
	}
	if ev.HistoryVisibility == "" {
		ev.HistoryVisibility = s.currentHistoryVisibility(ctx, tx, ore.RoomID)
	}
	rs, err := b.stateBefore(ctx, ore.RoomID)
	if err != nil {
		return err
	}
	if ev.IsState() {
		// An out-of-band invite is state here too, so a remote join
		// shows the invite it replaces (with is_direct).
		if err := ev.SetReplaces(rs.get(ev.Type, *ev.StateKey)); err != nil {
			return err
		}
	}
	if err := s.db.InsertStateEventsFrom(ctx, tx, b.pos, addedList); err != nil {
		return err
	}
	inserted, err := b.insertEvent(ctx, ev)
	if err != nil || !inserted {
		return err
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
	changes, err := s.db.ApplyStateDelta(ctx, tx, ore.RoomID, ev.Pos, removes, addEvents)
	if err != nil {
		return err
	}
	// Notifications first: they bring rs's push index up to date, and the
	// next state carries it on; derived before, the next state would
	// inherit a stale one and a run of joins would rebuild it every time.
	var shared sharedNotificationStore = &b.shared
	if b.events != nil {
		shared = b.events
	}
	wake, written, err := s.recordNotifications(ctx, tx, shared, rs, ev)
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	stateChanged := len(adds) > 0 || len(removes) > 0
	var after *roomState
	if stateChanged {
		after = rs.withDelta(removes, addEvents)
		b.states[ore.RoomID] = after
	}
	memberships := make(map[string]string, len(changes))
	var upgradeJoins []string
	for _, c := range changes {
		memberships[c.UserID] = c.Membership
		if c.Membership == spec.Join && s.isLocal(c.UserID) && !rs.isJoined(c.UserID) {
			upgradeJoins = append(upgradeJoins, c.UserID)
		}
	}
	predecessor := ""
	if len(upgradeJoins) > 0 {
		predecessor = b.states[ore.RoomID].predecessor()
	}
	b.after = append(b.after, func() {
		if stateChanged {
			s.cache.replace(ore.RoomID, after)
		}
		s.db.NotificationsCommitted(ev.Pos, written) // before /sync can see ev.Pos
		s.notif.OnRoomEvent(ore.RoomID, ev.Pos, memberships)
		s.wakePushers(wake)
		s.presenceActivity(ctx, ev.Sender)
		if predecessor != "" {
			s.copyUpgradePushRules(ctx, predecessor, ore.RoomID, upgradeJoins)
		}
	})
	return nil
}

// insertEvent stores ev (through the batch's EventBatch when there is
// one: a new non-state event is then written by flushEvents); false if
// it was stored already.
func (b *roomBatch) insertEvent(ctx context.Context, ev *types.Event) (bool, error) {
	if b.events == nil {
		return b.s.db.InsertEventFrom(ctx, b.tx, b.pos, ev, true)
	}
	return b.events.Insert(ctx, b.tx, ev)
}

// flushEvents writes what waits: before an output that may read it, and
// at the end (last: only the stream position follows, so a lone event's
// shared notification goes with the commit).
func (b *roomBatch) flushEvents(ctx context.Context, last bool) error {
	if b.events != nil {
		return b.events.Flush(ctx, b.tx)
	}
	shared := b.shared
	b.shared = nil
	if len(shared) == 0 {
		return nil
	}
	if last {
		return b.s.db.InsertSharedNotificationsAtCommit(ctx, b.tx, shared)
	}
	return b.s.db.InsertSharedNotifications(ctx, b.tx, shared)
}

func (s *SyncAPI) currentHistoryVisibility(ctx context.Context, q istorage.Querier, roomID string) string {
	ev, err := s.db.StateEvent(ctx, q, roomID, spec.MRoomHistoryVisibility, "")
	if err != nil || ev == nil {
		return rsapi.VisibilityShared
	}
	var c struct {
		Content struct {
			HistoryVisibility string `json:"history_visibility"`
		} `json:"content"`
	}
	if json.Unmarshal(ev.JSON, &c) != nil || c.Content.HistoryVisibility == "" {
		return rsapi.VisibilityShared
	}
	return c.Content.HistoryVisibility
}

func (b *roomBatch) redaction(ctx context.Context, r *rsapi.OutputRedaction) error {
	s, tx := b.s, b.tx
	target, err := s.db.EventByID(ctx, tx, r.RedactedEventID)
	if err != nil {
		return err
	}
	if target == nil || target.Redacted {
		return nil
	}
	pdu, err := types.ParsePDU(target.RoomVersion, r.RedactedEvent, true)
	if err != nil {
		s.log.Error("unparseable redacted event; skipping", "event_id", r.RedactedEventID, "error", err)
		return nil
	}
	extra := map[string]any{}
	if redaction, err := s.db.EventByID(ctx, tx, r.RedactionEventID); err == nil && redaction != nil {
		extra["redacted_because"] = json.RawMessage(redaction.JSON)
	}
	js, err := types.ToClientJSON(pdu, extra)
	if err != nil {
		return err
	}
	if err := s.db.UpdateEventJSON(ctx, tx, r.RedactedEventID, js, true); err != nil {
		return err
	}
	b.after = append(b.after, s.shared.forget) // rewritten at no new position
	if target.IsState() {
		// The event that replaced it carries its content as prev_content.
		next, err := s.db.NextInStateSlot(ctx, tx, target)
		if err != nil {
			return err
		}
		if next != nil {
			if changed, err := next.ReplacedRedacted(target.EventID, js); err != nil || !changed {
				return err
			}
			if err := s.db.SetEventJSON(ctx, tx, next.EventID, next.JSON); err != nil {
				return err
			}
		}
	}
	// A redacted state event changes what state says (rare: read it back).
	evs, err := s.db.CurrentState(ctx, tx, r.RoomID)
	if err != nil {
		return err
	}
	b.states[r.RoomID] = newRoomState(evs)
	b.after = append(b.after, func() { s.cache.invalidate(r.RoomID) })
	return nil
}

// purgeRoom deletes everything syncapi holds of a room the roomserver
// purged (admin API): events, state, memberships, receipts,
// notifications, search rows, the room's account data copies.
func (b *roomBatch) purgeRoom(ctx context.Context, roomID string) error {
	s := b.s
	if err := s.db.PurgeRoom(ctx, b.tx, roomID); err != nil {
		return err
	}
	delete(b.states, roomID)
	b.after = append(b.after, func() {
		s.cache.invalidate(roomID)
		s.db.ForgetUnreadCounts()
		s.shared.forget()
		s.notif.ForgetRoom(roomID)
	})
	return nil
}
