package syncapi

import (
	"context"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// Room upgrades: when a local user first joins a room whose create event
// names a predecessor, their push rules for the old room are copied to
// the new one (pushrules.CopyForUpgrade). The creator's join covers the
// upgrading user; every other local user is covered as they follow the
// tombstone, whether the upgrade happened here or on another server.

// upgradeCopyTimeout bounds one user's copy (a read and a write of their
// account data in the userapi).
const upgradeCopyTimeout = 10 * time.Second

// predecessor is the room ID the room's create event names as the room
// it replaces, or "".
func (r *roomState) predecessor() string {
	if r == nil {
		return ""
	}
	id := r.contentField(spec.MRoomCreate, "", "predecessor.room_id").String()
	if len(id) > 255 {
		return ""
	}
	return id
}

// isJoined: is userID joined in this state?
func (r *roomState) isJoined(userID string) bool {
	m := r.get(spec.MRoomMember, userID)
	return m != nil && m.Membership == spec.Join
}

// copyUpgradePushRules runs after the join is committed. A failure is
// logged, not retried: the join stands, and the user can set the rule
// again.
func (s *SyncAPI) copyUpgradePushRules(ctx context.Context, oldRoomID, newRoomID string, users []string) {
	for _, u := range users {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), upgradeCopyTimeout)
		err := s.copyUserPushRules(ctx, u, oldRoomID, newRoomID)
		cancel()
		if err != nil {
			s.log.Warn("copy push rules to upgraded room", "user_id", u, "old_room_id", oldRoomID, "room_id", newRoomID, "error", err)
		}
	}
}

func (s *SyncAPI) copyUserPushRules(ctx context.Context, userID, oldRoomID, newRoomID string) error {
	rs, err := s.loadRules(ctx, userID)
	if err != nil {
		return err
	}
	if !rs.CopyForUpgrade(oldRoomID, newRoomID) {
		return nil
	}
	return s.saveRules(ctx, userID, rs)
}
