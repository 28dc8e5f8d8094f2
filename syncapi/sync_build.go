package syncapi

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// buildSync computes the response for (since, cur]. hasData says whether
// anything changed for the user (an empty incremental sync waits).
func (s *SyncAPI) buildSync(ctx context.Context, sr *syncRequest, cur types.StreamToken) (*syncResponse, bool, error) {
	var since types.StreamToken
	if sr.since != nil {
		since = *sr.since
		since = clampToken(since, cur)
	}
	initial := sr.since == nil
	userID := sr.device.UserID
	resp := newSyncResponse()
	next := cur
	keys := s.startKeyCounts(ctx, sr.device) // read beside the rest

	// Global and room account data.
	ad, err := s.db.AccountDataBetween(ctx, userID, since.AccountData, cur.AccountData)
	if err != nil {
		return nil, false, err
	}
	roomAD := map[string][]json.RawMessage{}
	sentRules := false
	for _, a := range ad {
		content := a.Content
		if a.RoomID == "" && a.Type == matrixrules.MPushRules {
			content, sentRules = pushRulesContent(userID, content), true
		}
		ev, _ := json.Marshal(map[string]any{"type": a.Type, "content": content})
		if a.RoomID == "" {
			if sr.filter.AccountData.Allows(a.Type, "") {
				resp.AccountData.Events = append(resp.AccountData.Events, ev)
			}
		} else if sr.filter.Room.AccountData.Allows(a.Type, "") && sr.filter.Room.AccountData.AllowsRoom(a.RoomID) {
			roomAD[a.RoomID] = append(roomAD[a.RoomID], ev)
		}
	}

	// Clients take their push rules from an initial sync: a user who
	// never changed them has the defaults.
	if initial && !sentRules && sr.filter.AccountData.Allows(matrixrules.MPushRules, "") {
		ev, _ := json.Marshal(map[string]any{"type": matrixrules.MPushRules, "content": pushRulesContent(userID, nil)})
		resp.AccountData.Events = append(resp.AccountData.Events, ev)
	}

	// Rooms.
	if err := s.buildRooms(ctx, sr, since, cur, initial, resp, roomAD); err != nil {
		return nil, false, err
	}

	// Presence of users sharing a room, and our own.
	if s.base.Cfg.Presence.Enabled && (sr.filter.Presence.Limit == nil || *sr.filter.Presence.Limit > 0) {
		if err := s.addPresence(ctx, userID, since.Presence, cur.Presence, sr.newlyShared, sr.filter, resp); err != nil {
			return nil, false, err
		}
	}

	// To-device, delivered until acknowledged by a later since.
	msgs, err := s.db.ToDeviceBetween(ctx, userID, sr.device.ID, since.ToDevice, cur.ToDevice, 100)
	if err != nil {
		return nil, false, err
	}
	for _, m := range s.dropIgnoredToDevice(ctx, userID, msgs) {
		ev, _ := json.Marshal(map[string]any{"sender": m.Sender, "type": m.Type, "content": m.Content})
		resp.ToDevice.Events = append(resp.ToDevice.Events, ev)
	}
	if len(msgs) == 100 {
		next.ToDevice = msgs[len(msgs)-1].Pos
	}

	if err := s.addE2EE(ctx, sr.device, keys, &sr.memberEvents, since, cur, initial, resp); err != nil {
		return nil, false, err
	}

	resp.NextBatch = next.String()
	hasData := len(resp.Rooms.Join)+len(resp.Rooms.Invite)+len(resp.Rooms.Leave)+len(resp.Rooms.Knock) > 0 ||
		len(resp.DeviceLists.Changed)+len(resp.DeviceLists.Left) > 0 ||
		len(resp.AccountData.Events) > 0 || len(resp.Presence.Events) > 0 || len(resp.ToDevice.Events) > 0
	return resp, hasData, nil
}

// joinedRoomsAt is the set of rooms userID was joined to at position at.
func (s *SyncAPI) joinedRoomsAt(ctx context.Context, userID string, at types.StreamPosition) (map[string]bool, error) {
	ms, err := s.db.MembershipsAt(ctx, userID, at)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ms))
	for _, m := range ms {
		if m.Membership == "join" {
			out[m.RoomID] = true
		}
	}
	return out, nil
}

// clampToken keeps a client's token within what the server has (after a
// database reset or clock skew), so no stream is skipped forever.
func clampToken(t, cur types.StreamToken) types.StreamToken {
	c := func(a, b types.StreamPosition) types.StreamPosition { return min(a, b) }
	return types.StreamToken{
		PDU: c(t.PDU, cur.PDU), AccountData: c(t.AccountData, cur.AccountData), Receipt: c(t.Receipt, cur.Receipt),
		Typing: c(t.Typing, cur.Typing), ToDevice: c(t.ToDevice, cur.ToDevice), Presence: c(t.Presence, cur.Presence),
		DeviceList: c(t.DeviceList, cur.DeviceList),
	}
}

// buildRooms fills rooms.join/invite/leave/knock.
func (s *SyncAPI) buildRooms(ctx context.Context, sr *syncRequest, since, cur types.StreamToken, initial bool, resp *syncResponse, roomAD map[string][]json.RawMessage) error {
	userID := sr.device.UserID
	rf := &sr.filter.Room
	memberships, err := s.db.MembershipsAt(ctx, userID, cur.PDU)
	if err != nil {
		return err
	}
	// A room's membership changed in (since, cur] exactly when its latest
	// membership at cur is after since: no second read of the history.
	changed := map[string]bool{}
	if !initial {
		for _, m := range memberships {
			if m.Pos > since.PDU {
				changed[m.RoomID] = true
			}
		}
	}
	if memberships, err = s.dropIgnoredInvites(ctx, userID, memberships); err != nil {
		return err
	}
	sr.joinedAll = sr.joinedAll[:0] // every joined room, filtered or not, for the unread counts
	for _, m := range memberships {
		if m.Membership == "join" {
			sr.joinedAll = append(sr.joinedAll, m.RoomID)
		}
	}
	var eventRooms map[string]bool
	var joinedAtSince map[string]bool // rooms joined at since (when some membership changed)
	if !initial {
		if len(changed) > 0 {
			if joinedAtSince, err = s.joinedRoomsAt(ctx, userID, since.PDU); err != nil {
				return err
			}
		}
		// The member events of the same range go to presence and
		// device lists (sr.memberEvents): one statement for both.
		var evs []storage.MembershipChange
		if eventRooms, evs, err = s.roomsAndMemberEventsBetween(ctx, since.PDU, cur.PDU); err != nil {
			return err
		}
		sr.memberEvents = memberEventsRead{from: since.PDU, to: cur.PDU, evs: evs, done: true}
	}
	var pre *roomPrefetch
	if initial || sr.fullState {
		var full []string
		for _, m := range memberships {
			if m.Membership == "join" && rf.AllowsRoom(m.RoomID) {
				full = append(full, m.RoomID)
			}
		}
		if pre, err = s.prefetchRooms(ctx, sr, full, cur.PDU); err != nil {
			return err
		}
	}
	var removed map[string]bool // banned or kicked: shown on initial syncs anyway
	if initial && !rf.IncludeLeave {
		if removed, err = s.removedRooms(ctx, userID, memberships, rf); err != nil {
			return err
		}
	}
	var forgotten map[string]string // initial syncs leave out forgotten rooms
	if initial && (rf.IncludeLeave || len(removed) > 0) {
		if forgotten, err = s.db.ForgottenRooms(ctx, userID); err != nil {
			return err
		}
	}
	var joined []string
	for _, m := range memberships {
		if !rf.AllowsRoom(m.RoomID) {
			continue
		}
		switch m.Membership {
		case "join":
			joined = append(joined, m.RoomID)
			if !initial && !sr.fullState && !changed[m.RoomID] && !eventRooms[m.RoomID] && roomAD[m.RoomID] == nil {
				continue // maybe ephemeral only; handled below
			}
			newlyJoined := changed[m.RoomID] && !joinedAtSince[m.RoomID]
			jr, err := s.joinedRoomSection(ctx, sr, pre, m, since, cur, initial || sr.fullState || changed[m.RoomID], newlyJoined)
			if err != nil {
				return err
			}
			resp.Rooms.Join[m.RoomID] = jr
		case "invite":
			if initial || changed[m.RoomID] {
				ir, err := s.invitedRoomSection(ctx, m)
				if err != nil {
					return err
				}
				resp.Rooms.Invite[m.RoomID] = ir
			}
		case "knock":
			if initial || changed[m.RoomID] {
				ev, err := s.db.EventByID(ctx, nil, m.EventID)
				if err != nil {
					return err
				}
				kr := &knockedRoom{KnockState: eventList{Events: []json.RawMessage{}}}
				if ev != nil {
					kr.KnockState.Events = append(s.strippedRoomState(ctx, m.RoomID), ev.StrippedState())
				}
				resp.Rooms.Knock[m.RoomID] = kr
			}
		case "leave", "ban":
			if (initial && (rf.IncludeLeave || removed[m.RoomID]) && forgotten[m.RoomID] != m.EventID) || (!initial && changed[m.RoomID]) {
				lr, err := s.leftRoomSection(ctx, sr, m, since, initial)
				if err != nil {
					return err
				}
				if lr != nil {
					resp.Rooms.Leave[m.RoomID] = lr
				}
			}
		}
	}
	if !initial && s.base.Cfg.Presence.Enabled {
		if sr.newlyShared, err = s.newlySharedUsers(ctx, sr, joined, changed, joinedAtSince, eventRooms, since.PDU, cur.PDU); err != nil {
			return err
		}
	}
	return s.addRoomExtras(ctx, sr, since, cur, initial, joined, resp, roomAD)
}

// joinedRoomSection builds one joined room. full means send the whole
// state (initial sync, full_state, or joined since the last sync);
// newlyJoined, that the user joined since the last (incremental) sync.
// pre, if not nil, holds rows read for all rooms at once.
func (s *SyncAPI) joinedRoomSection(ctx context.Context, sr *syncRequest, pre *roomPrefetch, m storage.MembershipChange, since, cur types.StreamToken, full, newlyJoined bool) (*joinedRoom, error) {
	userID := sr.device.UserID
	rf := &sr.filter.Room
	mv := s.newMemberView(ctx, userID, m.RoomID, m, "join")
	mv.pre = pre
	lo := since.PDU
	if full {
		lo = 0
	}
	limit := sr.filter.TimelineLimit()
	evs, limited, err := s.fetchTimeline(ctx, m.RoomID, lo, cur.PDU, limit, &rf.Timeline, mv)
	if err != nil {
		return nil, err
	}
	if newlyJoined && !limited && (len(evs) == 0 || evs[0].Type != spec.MRoomCreate) {
		// The client has none of this room's history: unless the
		// timeline starts at the room's beginning, there is a gap
		// before it that prev_batch fills.
		limited = true
	}
	jr := newJoinedRoom(sr.stateAfter)
	jr.Timeline.Limited = limited
	if err := s.fillTimeline(ctx, pre, &jr.Timeline, evs, sr.device, mv, cur.PDU); err != nil {
		return nil, err
	}
	rs, err := s.cache.get(ctx, m.RoomID)
	if err != nil {
		return nil, err
	}
	switch {
	case full:
		if rf.State.LazyLoadMembers { // the client's room state starts over
			s.lazy.reset(userID, sr.device.ID, m.RoomID)
			s.lazy.unsent(userID, sr.device.ID, m.RoomID, lazyMembers(rs, evs, userID))
		}
		state := rs.all()
		if rf.State.LazyLoadMembers {
			state = lazyState(rs, evs, userID)
		}
		if sr.stateAfter != "" {
			jr.set(sr.stateAfter, stateEvents(state, evs, &rf.State, userID, false))
			break
		}
		jr.State.Events = stateEvents(state, evs, &rf.State, userID, true)
	case sr.stateAfter != "":
		// Every change up to the end of the timeline, those in it too:
		// the client takes its state from state_after alone.
		delta, err := s.db.StateChangedBetween(ctx, m.RoomID, since.PDU, cur.PDU+1)
		if err != nil {
			return nil, err
		}
		if rf.State.LazyLoadMembers {
			delta = append(delta, s.lazyMembersToSend(sr, m.RoomID, rs, evs, &rf.State)...)
		}
		jr.set(sr.stateAfter, stateEvents(dedupe(delta), evs, &rf.State, userID, false))
	case limited && len(evs) > 0:
		delta, err := s.db.StateChangedBetween(ctx, m.RoomID, since.PDU, evs[0].Pos)
		if err != nil {
			return nil, err
		}
		if rf.State.LazyLoadMembers {
			delta = append(delta, s.lazyMembersToSend(sr, m.RoomID, rs, evs, &rf.State)...)
		}
		jr.State.Events = stateEvents(dedupe(delta), evs, &rf.State, userID, true)
	case rf.State.LazyLoadMembers && len(evs) > 0:
		// A gapless incremental timeline has no state delta, but a
		// lazy-loading client may not have the member event of someone
		// who now speaks.
		jr.State.Events = stateEvents(s.lazyMembersToSend(sr, m.RoomID, rs, evs, &rf.State), evs, &rf.State, userID, true)
	}
	jr.Summary = summarize(rs, userID)
	return jr, nil
}

// fillTimeline serves evs (with per-device txn IDs and bundled
// aggregations, the user's membership at each from mv) and sets prev_batch.
func (s *SyncAPI) fillTimeline(ctx context.Context, pre *roomPrefetch, t *timeline, evs []*types.Event, dev *uapi.Device, mv *memberView, upTo types.StreamPosition) error {
	deviceID, userID := dev.ID, dev.UserID
	rels, err := s.aggregationsWith(ctx, pre, evs, upTo, userID)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		t.Events = append(t.Events, ev.ServeTo(deviceID, mv.membershipAt(ev), rels[ev.EventID]))
	}
	if len(evs) > 0 {
		t.PrevBatch = types.TopologyToken{Pos: evs[0].Pos - 1}.String()
	} else {
		t.PrevBatch = types.TopologyToken{Pos: upTo}.String()
	}
	return nil
}

// stateEvents serves state, applying the state filter and lazy loading
// (members of the timeline's senders), minus what the timeline already
// carries if omitTimeline (state, not state_after).
func stateEvents(state []*types.Event, tl []*types.Event, f *types.RoomEventFilter, userID string, omitTimeline bool) []json.RawMessage {
	inTimeline := make(map[string]bool, len(tl))
	senders := map[string]bool{userID: true}
	for _, ev := range tl {
		inTimeline[ev.EventID] = true
		senders[ev.Sender] = true
	}
	out := []json.RawMessage{}
	for _, ev := range state {
		if (omitTimeline && inTimeline[ev.EventID]) || !f.AllowsEvent(ev) {
			continue
		}
		if f.LazyLoadMembers && ev.Type == spec.MRoomMember && !senders[*ev.StateKey] {
			continue
		}
		out = append(out, ev.Serve("", nil))
	}
	return out
}

// lazyMembersToSend is lazyMembers minus those this device already has,
// unless the filter asks for redundant members.
func (s *SyncAPI) lazyMembersToSend(sr *syncRequest, roomID string, rs *roomState, tl []*types.Event, f *types.RoomEventFilter) []*types.Event {
	members := lazyMembers(rs, tl, sr.device.UserID)
	unsent := s.lazy.unsent(sr.device.UserID, sr.device.ID, roomID, members)
	if f.IncludeRedundantMembers {
		return members
	}
	return unsent
}

// lazyState is the state a lazy-loading client is sent in full: every
// state event but the members, and the members stateEvents keeps (the
// timeline's senders and the user), without walking every member.
func lazyState(rs *roomState, tl []*types.Event, userID string) []*types.Event {
	state := append([]*types.Event(nil), rs.nonMemberState()...)
	state = append(state, lazyMembers(rs, tl, userID)...)
	if m := rs.get(spec.MRoomMember, userID); m != nil && !slices.Contains(state, m) {
		state = append(state, m)
	}
	return state
}

// lazyMembers returns the current member events of timeline senders.
func lazyMembers(rs *roomState, tl []*types.Event, userID string) []*types.Event {
	var out []*types.Event
	seen := map[string]bool{}
	for _, ev := range tl {
		if seen[ev.Sender] {
			continue
		}
		seen[ev.Sender] = true
		if m := rs.get(spec.MRoomMember, ev.Sender); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func dedupe(evs []*types.Event) []*types.Event {
	seen := map[string]bool{}
	out := evs[:0]
	for _, ev := range evs {
		if !seen[ev.EventID] {
			seen[ev.EventID] = true
			out = append(out, ev)
		}
	}
	return out
}

// summarize builds the room summary (heroes only for unnamed rooms).
func summarize(rs *roomState, userID string) *roomSummary {
	j, i := rs.joinedN, rs.invitedN
	sum := &roomSummary{JoinedCount: &j, InvitedCnt: &i}
	if rs.get(spec.MRoomName, "") == nil && rs.get(spec.MRoomCanonicalAlias, "") == nil {
		sum.Heroes = heroes(rs, userID, maxHeroes)
	}
	return sum
}

func heroes(rs *roomState, userID string, n int) []string {
	var out []string
	for _, u := range rs.heroCandidates(maxHeroes + 1) {
		if u != userID {
			out = append(out, u)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// maxHeroes is the most heroes a summary names.
const maxHeroes = 5

// invitedRoomSection serves stripped state: the invite's own
// invite_room_state when the inviter's server sent one, else ours.
func (s *SyncAPI) invitedRoomSection(ctx context.Context, m storage.MembershipChange) (*invitedRoom, error) {
	ir := &invitedRoom{InviteState: eventList{Events: []json.RawMessage{}}}
	ev, err := s.db.EventByID(ctx, nil, m.EventID)
	if err != nil || ev == nil {
		return ir, err
	}
	state := ev.InviteRoomState()
	if state == nil {
		state = s.strippedRoomState(ctx, m.RoomID)
	}
	ir.InviteState.Events = append(state, ev.StrippedState())
	return ir, nil
}

// strippedStateTypes are what invite/knock state shows (spec "Stripped state").
var strippedStateTypes = []string{spec.MRoomCreate, spec.MRoomJoinRules, spec.MRoomName, spec.MRoomAvatar, spec.MRoomCanonicalAlias, spec.MRoomEncryption, spec.MRoomTopic}

func (s *SyncAPI) strippedRoomState(ctx context.Context, roomID string) []json.RawMessage {
	out := []json.RawMessage{}
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		return out
	}
	for _, t := range strippedStateTypes {
		if ev := rs.get(t, ""); ev != nil {
			out = append(out, ev.StrippedState())
		}
	}
	return out
}

// leftRoomSection serves a room the user left or was banned from, with
// the timeline up to (and including) the leave.
func (s *SyncAPI) leftRoomSection(ctx context.Context, sr *syncRequest, m storage.MembershipChange, since types.StreamToken, initial bool) (*leftRoom, error) {
	rf := &sr.filter.Room
	mv := s.newMemberView(ctx, sr.device.UserID, m.RoomID, m, m.Membership)
	lo := since.PDU
	if initial {
		lo = 0
	}
	evs, limited, err := s.fetchTimeline(ctx, m.RoomID, lo, m.Pos, sr.filter.TimelineLimit(), &rf.Timeline, mv)
	if err != nil {
		return nil, err
	}
	lr := &leftRoom{Timeline: timeline{Events: []json.RawMessage{}, Limited: limited}, AccountData: eventList{Events: []json.RawMessage{}}}
	if err := s.fillTimeline(ctx, nil, &lr.Timeline, evs, sr.device, mv, m.Pos); err != nil {
		return nil, err
	}
	state, err := s.stateAtLeave(ctx, m, lo)
	if err != nil {
		return nil, err
	}
	if sr.stateAfter != "" { // the state at the leave, which ends the timeline
		lr.set(sr.stateAfter, stateEvents(state, evs, &rf.State, sr.device.UserID, false))
	} else {
		lr.State = &eventList{Events: stateEvents(state, evs, &rf.State, sr.device.UserID, true)}
	}
	return lr, nil
}
