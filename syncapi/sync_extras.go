package syncapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// addRoomExtras adds ephemeral events, room account data and unread
// counts to joined rooms, creating room entries that only have those.
func (s *SyncAPI) addRoomExtras(ctx context.Context, sr *syncRequest, since, cur types.StreamToken, initial bool, joined []string, resp *syncResponse, roomAD map[string][]json.RawMessage) error {
	userID := sr.device.UserID
	ef := &sr.filter.Room.Ephemeral
	ephemeralOn := ef.Limit == nil || *ef.Limit > 0
	room := func(id string) *joinedRoom {
		jr := resp.Rooms.Join[id]
		if jr == nil {
			jr = newJoinedRoom(sr.stateAfter)
			jr.Timeline.PrevBatch = types.TopologyToken{Pos: cur.PDU}.String()
			resp.Rooms.Join[id] = jr
		}
		return jr
	}
	isJoined := make(map[string]bool, len(joined))
	for _, id := range joined {
		isJoined[id] = true
	}
	if ephemeralOn && ef.Allows(matrixrules.MTyping, "") {
		for _, id := range joined {
			if !ef.AllowsRoom(id) {
				continue
			}
			users, changed := s.typing.Users(id, since.Typing)
			if (initial && len(users) == 0) || (!initial && !changed) {
				continue
			}
			ev, _ := json.Marshal(map[string]any{"type": matrixrules.MTyping, "content": map[string]any{"user_ids": users}})
			room(id).Ephemeral.Events = append(room(id).Ephemeral.Events, ev)
		}
	}
	if ephemeralOn && ef.Allows(matrixrules.MReceipt, "") && (initial || cur.Receipt > since.Receipt) {
		receipts, err := s.db.ReceiptsBetween(ctx, joined, since.Receipt, cur.Receipt)
		if err != nil {
			return err
		}
		for id, ev := range receiptEvents(receipts, userID) {
			if ef.AllowsRoom(id) {
				room(id).Ephemeral.Events = append(room(id).Ephemeral.Events, ev)
			}
		}
	}
	for id, evs := range roomAD {
		if isJoined[id] {
			room(id).AccountData.Events = append(room(id).AccountData.Events, evs...)
		}
	}
	if len(resp.Rooms.Join) == 0 {
		return nil
	}
	inResp := make(map[string]bool, len(resp.Rooms.Join))
	for id := range resp.Rooms.Join {
		inResp[id] = true
	}
	counts, err := s.db.UnreadForRooms(ctx, userID, inResp, sr.joinedAll, cur.PDU, cur.Receipt)
	if err != nil {
		return err
	}
	threaded := sr.filter.Room.Timeline.UnreadThreadNotifications
	for id, jr := range resp.Rooms.Join {
		c := counts[id]
		if c == nil {
			continue
		}
		if !threaded {
			jr.UnreadNotifications = unreadCounts{Notification: c.Notification, Highlight: c.Highlight}
			continue
		}
		jr.UnreadNotifications = unreadCounts{Notification: c.Main.Notification, Highlight: c.Main.Highlight}
		if len(c.Threads) > 0 {
			jr.UnreadThreadNotifications = map[string]unreadCounts{}
			for t, tc := range c.Threads {
				jr.UnreadThreadNotifications[t] = unreadCounts{Notification: tc.Notification, Highlight: tc.Highlight}
			}
		}
	}
	return nil
}

// receiptEvents groups receipts into one m.receipt event per room.
// Private receipts are shown only to their owner. The format holds one
// receipt per user, type and event: when a user has a threaded and an
// unthreaded one on the same event, the unthreaded one is sent.
func receiptEvents(receipts []storage.Receipt, viewer string) map[string]json.RawMessage {
	type entry struct {
		TS       int64  `json:"ts"`
		ThreadID string `json:"thread_id,omitempty"`
	}
	byRoom := map[string]map[string]map[string]map[string]entry{} // room -> event -> type -> user
	for _, r := range receipts {
		if r.Type == "m.read.private" && r.UserID != viewer {
			continue
		}
		evs := byRoom[r.RoomID]
		if evs == nil {
			evs = map[string]map[string]map[string]entry{}
			byRoom[r.RoomID] = evs
		}
		ts := evs[r.EventID]
		if ts == nil {
			ts = map[string]map[string]entry{}
			evs[r.EventID] = ts
		}
		us := ts[r.Type]
		if us == nil {
			us = map[string]entry{}
			ts[r.Type] = us
		}
		if old, ok := us[r.UserID]; ok && old.ThreadID == "" {
			continue // unthreaded wins (MSC4102): it covers every thread
		}
		us[r.UserID] = entry{TS: r.TS, ThreadID: r.ThreadID}
	}
	out := make(map[string]json.RawMessage, len(byRoom))
	for room, content := range byRoom {
		out[room], _ = json.Marshal(map[string]any{"type": matrixrules.MReceipt, "content": content})
	}
	return out
}

// addPresence adds presence changes of users who share a room with userID.
// Users who newly share a room with userID (newlyShared) get their
// current presence sent even if it did not change: the client had no
// reason to know it before.
func (s *SyncAPI) addPresence(ctx context.Context, userID string, from, to types.StreamPosition, newlyShared []string, f *types.Filter, resp *syncResponse) error {
	limit := f.Presence.LimitOr(100)
	var ps []storage.Presence
	if to > from {
		var err error
		if ps, err = s.db.PresenceBetween(ctx, from, to, 1000); err != nil {
			return err
		}
	}
	if len(newlyShared) > 0 {
		changed := make(map[string]bool, len(ps))
		for _, p := range ps {
			changed[p.UserID] = true
		}
		var unchanged []string
		for _, u := range newlyShared {
			if !changed[u] && len(unchanged) < limit {
				unchanged = append(unchanged, u)
			}
		}
		more, err := s.db.PresenceOf(ctx, unchanged, to)
		if err != nil {
			return err
		}
		ps = append(more, ps...)
	}
	if len(ps) == 0 {
		return nil
	}
	others := make([]string, len(ps))
	for i, p := range ps {
		others[i] = p.UserID
	}
	visible := s.notif.SharingRoom(userID, others) // not every member of userID's rooms
	for _, p := range ps {
		if !visible[p.UserID] || !f.Presence.Allows(matrixrules.MPresence, p.UserID) {
			continue
		}
		p.LastActiveTS = s.presence.lastActive(p.UserID, p.LastActiveTS)
		resp.Presence.Events = append(resp.Presence.Events, presenceEvent(p))
		if len(resp.Presence.Events) >= limit {
			break
		}
	}
	return nil
}

// newlySharedUsers lists the users who came to share a room with userID
// in (since, now]: every member of a room userID joined since then, and
// those who joined one of userID's rooms since then (joined: userID's
// joined rooms; changed: rooms with a membership change of userID;
// joinedAtSince: rooms userID was joined to at since; eventRooms: rooms
// with any event since; cur: the sync's position).
func (s *SyncAPI) newlySharedUsers(ctx context.Context, sr *syncRequest, joined []string, changed, joinedAtSince, eventRooms map[string]bool, since, cur types.StreamPosition) ([]string, error) {
	userID := sr.device.UserID
	seen := map[string]bool{userID: true}
	var out []string
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	var changedSince map[string][]string // room → users with a member event after since
	for _, roomID := range joined {
		if !changed[roomID] && !eventRooms[roomID] {
			continue
		}
		rs, err := s.cache.get(ctx, roomID)
		if err != nil {
			return nil, err
		}
		if changed[roomID] && !joinedAtSince[roomID] {
			for _, u := range rs.joined() {
				add(u)
			}
			continue
		}
		// Those who joined since are found from the member events since,
		// not by visiting every member of a big room on every sync.
		if changedSince == nil {
			// Up to cur, not beyond: a join after it is in the next
			// sync's (cur, …], and device lists read the same range.
			evs, err := s.memberEventsBetween(ctx, &sr.memberEvents, since, cur)
			if err != nil {
				return nil, err
			}
			changedSince = map[string][]string{}
			for _, e := range evs {
				changedSince[e.RoomID] = append(changedSince[e.RoomID], e.UserID)
			}
		}
		for _, u := range changedSince[roomID] {
			if ev := rs.get(spec.MRoomMember, u); ev != nil && ev.Pos > since && rs.isJoined(u) {
				add(u)
			}
		}
	}
	return out, nil
}

// presenceEvent formats an m.presence event.
func presenceEvent(p storage.Presence) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": matrixrules.MPresence, "sender": p.UserID, "content": presenceContent(p)})
	return b
}

func presenceContent(p storage.Presence) map[string]any {
	c := map[string]any{"presence": p.Presence}
	if p.LastActiveTS > 0 {
		c["last_active_ago"] = max(time.Now().UnixMilli()-p.LastActiveTS, 0)
	}
	if p.Presence == "online" {
		c["currently_active"] = p.CurrentlyActive
	}
	if p.StatusMsg != nil {
		c["status_msg"] = *p.StatusMsg
	}
	return c
}

// setPresence stores p, wakes everyone who can see it and publishes it.
func (s *SyncAPI) setPresence(ctx context.Context, p storage.Presence) error {
	var pos types.StreamPosition
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		pos, err = s.db.UpsertPresence(ctx, tx, p)
		return err
	})
	if err != nil {
		return err
	}
	users := append(s.notif.UsersSharingRoom(p.UserID), p.UserID)
	s.notif.Advance(func(t *types.StreamToken) { t.Presence = pos }, users...)
	s.publishEDU(ctx, stream.Presence, &api.OutputPresence{Origin: s.base.Cfg.ServerName, UserID: p.UserID, Presence: p.Presence,
		StatusMsg: p.StatusMsg, LastActiveTS: p.LastActiveTS, CurrentlyActive: p.CurrentlyActive}, nil)
	return nil
}
