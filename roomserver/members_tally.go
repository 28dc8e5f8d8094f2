package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/roomserver/storage"
)

// memberTally is what queries ask of the current state's members (the
// joined count; is a server joined or invited) kept as counts, so a big
// room's summary or server check visits no member. It is derived from
// the state only: built from the whole state once (on first use after
// the head is loaded) and then moved by each committed batch's state
// delta (the memberships of the entries it replaced and of those it
// put), so it can't drift from what a walk of the state would count.
type memberTally struct {
	joined    int
	joinedBy  map[string]int // server → joined members
	invitedBy map[string]int // server → invited members
}

func newMemberTally() *memberTally {
	return &memberTally{joinedBy: map[string]int{}, invitedBy: map[string]int{}}
}

// add counts (n = 1) or uncounts (n = -1) userID's membership m.
func (t *memberTally) add(userID, m string, n int) {
	var by map[string]int
	switch m {
	case spec.Join:
		t.joined += n
		by = t.joinedBy
	case spec.Invite:
		by = t.invitedBy
	default:
		return
	}
	srv := serverOf(userID)
	if by[srv] += n; by[srv] == 0 {
		delete(by, srv)
	}
}

// merge adds delta d into t.
func (t *memberTally) merge(d *memberTally) {
	t.joined += d.joined
	for _, p := range [][2]map[string]int{{t.joinedBy, d.joinedBy}, {t.invitedBy, d.invitedBy}} {
		for srv, n := range p[1] {
			if p[0][srv] += n; p[0][srv] == 0 {
				delete(p[0], srv)
			}
		}
	}
}

// tallyChange records in the batch that a member state entry of userID
// went from membership was to now ("" for none). known is false when a
// membership could not be read: the room's tally is then rebuilt.
func (b *batch) tallyChange(userID, was, now string, known bool) {
	if !known {
		b.tallyUnknown = true
		return
	}
	if b.tally == nil {
		b.tally = newMemberTally()
	}
	b.tally.add(userID, was, -1)
	b.tally.add(userID, now, 1)
}

// applyTally moves the room's tally by the committed batch's delta
// (rm.mu held for writing).
func (b *batch) applyTally() {
	rm := b.rm
	if len(b.changes) > 0 {
		rm.stateGen++
	}
	switch {
	case rm.tally == nil:
	case b.tallyUnknown:
		rm.tally = nil
	case b.tally != nil:
		rm.tally.merge(b.tally)
	}
}

// withTally calls fn with the room's current member tally (under the
// room's read lock: fn must not block), building it first if needed.
func (r *RoomServer) withTally(ctx context.Context, rm *room, fn func(*memberTally)) error {
	rm.mu.RLock()
	if rm.tally != nil {
		defer rm.mu.RUnlock()
		fn(rm.tally)
		return nil
	}
	gen := rm.stateGen
	type member struct {
		userID string
		nid    int64
	}
	var members []member
	for k, nid := range rm.state {
		if k.EventType == spec.MRoomMember {
			members = append(members, member{k.StateKey, nid})
		}
	}
	rm.mu.RUnlock()

	byNID := make(map[int64]string, len(members))
	nids := make([]int64, len(members))
	for i, m := range members {
		byNID[m.nid], nids[i] = m.userID, m.nid
	}
	t := newMemberTally()
	err := r.eachMembershipNID(ctx, rm, nids, func(nid int64, m string) bool {
		t.add(byNID[nid], m, 1)
		return true
	})
	if err != nil {
		return err
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if rm.tally == nil && rm.stateGen == gen {
		rm.tally = t // else the state moved on meanwhile: t is still right for the state it was built from
	}
	fn(t)
	return nil
}

// joinedNow is the current state's joined member count.
func (r *RoomServer) joinedNow(ctx context.Context, rm *room) (n int, err error) {
	err = r.withTally(ctx, rm, func(t *memberTally) { n = t.joined })
	return n, err
}

// serverHasNow: has the current state a member of serverName with
// membership m (join or invite)?
func (r *RoomServer) serverHasNow(ctx context.Context, rm *room, serverName, m string) (has bool, err error) {
	err = r.withTally(ctx, rm, func(t *memberTally) {
		if m == spec.Join {
			has = t.joinedBy[serverName] > 0
		} else {
			has = t.invitedBy[serverName] > 0
		}
	})
	return has, err
}

// nonMemberState copies the current state without its member entries.
func (rm *room) nonMemberState() storage.StateMap {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	out := make(storage.StateMap, len(rm.nonMembers))
	for k := range rm.nonMembers {
		out[k] = rm.state[k]
	}
	return out
}

// memberEntry is a member state entry replaced (was → now, 0: none).
type memberEntry struct {
	userID   string
	was, now int64
}

// rowMembership is the membership of member event nid among rows ("" for
// nid 0); false when the row is missing.
func rowMembership(rows map[int64]*storage.Event, nid int64) (string, bool) {
	if nid == 0 {
		return "", true
	}
	e := rows[nid]
	if e == nil {
		return "", false
	}
	return gjson.GetBytes(e.JSON, "content.membership").Str, true
}
