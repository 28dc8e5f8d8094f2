package syncapi

import (
	"context"
	"encoding/json"
	"math"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/storage"
)

// PushWaker is told when users get new notifications or read some, so
// their pushers deliver (the pushserver). Calls must not block: they run
// on the consumer's path.
type PushWaker interface {
	// Notified wakes the users' pushers after the commit that stored
	// their notifications; listed is the mark of the PusherUsers listing
	// they came from (api.NoPusherListing if all were named).
	Notified(userIDs []string, listed uint64)
	Read(userID string)
	// PusherUsers lists the users with a pusher for whom member holds,
	// so a message notifying a big room's members wakes only those, with
	// the listing's mark for Notified (pushers added after it are woken
	// too: the listing, taken in the transaction, missed them); ok is
	// false when it cannot tell (delivery runs in another process):
	// every notified user must then be named.
	PusherUsers(member func(userID string) bool) (users []string, listed uint64, ok bool)
}

// pushWake is whom an event's notifications wake once committed. The
// zero value wakes no one.
type pushWake struct {
	users   []string
	listed  uint64 // PushWaker.PusherUsers's mark, when listing
	listing bool   // some users came from a listing of pushers
}

func (s *SyncAPI) wakePushers(w pushWake) {
	if s.pusher == nil || (len(w.users) == 0 && !w.listing) {
		return
	}
	listed := api.NoPusherListing
	if w.listing {
		listed = w.listed
	}
	s.pusher.Notified(w.users, listed)
}

func (s *SyncAPI) pushersRead(userID string) {
	if s.pusher != nil {
		s.pusher.Read(userID)
	}
}

// PushPosition is the newest event position: a new pusher delivers what
// comes after it.
func (s *SyncAPI) PushPosition(ctx context.Context) (int64, error) {
	return int64(s.notif.Current().PDU), nil
}

// PushNotificationsAfter lists the user's notifications after position
// after, oldest first, with what a push gateway shows of each event.
func (s *SyncAPI) PushNotificationsAfter(ctx context.Context, userID string, after int64, limit int) ([]api.PushNotification, error) {
	ns, err := s.db.NotificationsAfter(ctx, userID, after, limit)
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.EventID
	}
	evs, err := s.db.EventsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string][]byte, len(evs))
	for _, ev := range evs {
		byID[ev.EventID] = ev.JSON
	}
	out := make([]api.PushNotification, 0, len(ns))
	ignored := s.ignoredBy(ctx, userID)
	for _, n := range ns {
		js := byID[n.EventID]
		p := api.PushNotification{Pos: n.ID, RoomID: n.RoomID, EventID: n.EventID, Highlight: n.Highlight, Tweaks: tweaks(n.Actions)}
		if js != nil {
			p.Type = gjson.GetBytes(js, "type").Str
			p.Sender = gjson.GetBytes(js, "sender").Str
			if c := gjson.GetBytes(js, "content"); c.IsObject() {
				p.Content = json.RawMessage(c.Raw)
			}
			if sk := gjson.GetBytes(js, "state_key"); p.Type == spec.MRoomMember && sk.Str == userID {
				p.UserIsTarget = true
			}
			p.Skip = ignored[p.Sender]
		}
		if rs, err := s.cache.get(ctx, n.RoomID); err == nil {
			p.RoomName = rs.contentField(spec.MRoomName, "", "name").Str
			p.RoomAlias = rs.contentField(spec.MRoomCanonicalAlias, "", "alias").Str
			p.SenderDisplayName = rs.displayName(p.Sender)
		}
		out = append(out, p)
	}
	return out, nil
}

// PushCounts are the user's badge counts: unread notifications over all
// rooms, and unread call invites.
func (s *SyncAPI) PushCounts(ctx context.Context, userID string) (api.PushCounts, error) {
	rooms, err := s.db.UnreadForRooms(ctx, userID, nil, nil, math.MaxInt64, storage.NoReceiptPos)
	if err != nil {
		return api.PushCounts{}, err
	}
	var c api.PushCounts
	for _, r := range rooms {
		c.Unread += r.Notification
	}
	c.MissedCalls, err = s.db.UnreadOfType(ctx, userID, matrixrules.MCallInvite)
	return c, err
}

// tweaks collects the set_tweak actions ({"set_tweak": "sound", "value":
// "default"}); a tweak without value (highlight) means true.
func tweaks(actions json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	gjson.ParseBytes(actions).ForEach(func(_, a gjson.Result) bool {
		name := a.Get("set_tweak")
		if name.Type != gjson.String {
			return true
		}
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		if v := a.Get("value"); v.Exists() {
			out[name.Str] = json.RawMessage(v.Raw)
		} else {
			out[name.Str] = json.RawMessage("true")
		}
		return true
	})
	return out
}
