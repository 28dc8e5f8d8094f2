package roomserver

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// A member event's membership never changes (redaction keeps it, event
// NIDs are never reused), so the roomserver remembers it by NID: counting
// a big room's members or looking for a server's member then parses no
// event twice. ~100 B per entry.
const membershipCacheSize = 32768

// membershipChunk is how many uncached member events are loaded at once,
// so a search that stops at its first match loads little.
const membershipChunk = 256

// eachMembership calls fn with the membership of every member event in
// nids (in no particular order) until fn returns false.
func (r *RoomServer) eachMembership(ctx context.Context, rm *room, nids []int64, fn func(membership string) bool) error {
	return r.eachMembershipNID(ctx, rm, nids, func(_ int64, m string) bool { return fn(m) })
}

// eachMembershipNID is eachMembership also naming each event's NID.
func (r *RoomServer) eachMembershipNID(ctx context.Context, rm *room, nids []int64, fn func(nid int64, membership string) bool) error {
	var missing []int64
	for _, nid := range nids {
		if m, ok := r.memberships.get(nid); ok {
			if !fn(nid, m) {
				return nil
			}
		} else {
			missing = append(missing, nid)
		}
	}
	for len(missing) > 0 {
		chunk := missing[:min(membershipChunk, len(missing))]
		missing = missing[len(chunk):]
		evs, err := r.eventsByNID(ctx, r.db, rm.version, chunk)
		if err != nil {
			return err
		}
		for nid, e := range evs {
			m := knownMembership(membershipOf(e.pdu))
			r.memberships.put(nid, m)
			if !fn(nid, m) {
				return nil
			}
		}
	}
	return nil
}

// knownMembership is m as one of the spec's constants, so cached entries
// don't keep the event content they were read from; "" for anything else.
func knownMembership(m string) string {
	for _, k := range []string{spec.Join, spec.Invite, spec.Leave, spec.Ban, spec.Knock} {
		if m == k {
			return k
		}
	}
	return ""
}
