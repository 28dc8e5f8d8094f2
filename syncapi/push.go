package syncapi

import (
	"context"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/pushrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// pushCache holds each user's compiled push rules (parsed, defaults
// merged, globs compiled) so the consumer evaluates an event for a member
// without parsing anything; m.push_rules account data updates replace an
// entry.
type pushCache struct {
	mu    sync.Mutex
	rules map[string]*pushrules.Compiled
}

// maxCachedRuleSets bounds memory; past it the cache starts over.
const maxCachedRuleSets = 100000

func newPushCache() *pushCache { return &pushCache{rules: map[string]*pushrules.Compiled{}} }

func (p *pushCache) set(userID string, content []byte) {
	rs := pushrules.Compile(pushrules.WithDefaults(userID, content))
	p.mu.Lock()
	if len(p.rules) > maxCachedRuleSets {
		p.rules = map[string]*pushrules.Compiled{}
	}
	p.rules[userID] = rs
	p.mu.Unlock()
}

// rulesFor returns the user's rules, loading them from syncapi's copy of
// account data on first use.
func (s *SyncAPI) rulesFor(ctx context.Context, userID string) (*pushrules.Compiled, error) {
	s.push.mu.Lock()
	rs, ok := s.push.rules[userID]
	s.push.mu.Unlock()
	if ok {
		return rs, nil
	}
	content, err := s.db.GetAccountData(ctx, userID, "", "m.push_rules")
	if err != nil {
		return nil, err
	}
	s.push.set(userID, content)
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return s.push.rules[userID], nil
}

// recordNotifications evaluates push rules of the room's local members
// (and an invited local user) for ev and stores the notifying ones, in the
// consumer's transaction.
func (s *SyncAPI) recordNotifications(ctx context.Context, tx *istorage.Tx, ev *types.Event) error {
	if ev.Type == "m.room.create" {
		return nil
	}
	rs, err := s.cache.get(ctx, ev.RoomID) // state before ev: the consumer is the only writer
	if err != nil {
		return err
	}
	targets := make([]string, 0, len(rs.joined)+1)
	for _, u := range rs.joined {
		if u != ev.Sender && s.isLocal(u) {
			targets = append(targets, u)
		}
	}
	memberCount := len(rs.joined)
	if ev.Type == "m.room.member" && ev.StateKey != nil && s.isLocal(*ev.StateKey) && *ev.StateKey != ev.Sender && ev.Membership == "invite" {
		targets = append(targets, *ev.StateKey)
	}
	if len(targets) == 0 {
		return nil
	}
	senderPL, levels := powerLevels(rs, ev.Sender)
	pev := pushrules.NewEvent(ev.JSON) // parsed once for every member
	now := time.Now().UnixMilli()
	var notes []storage.Notification
	for _, u := range targets {
		rules, err := s.rulesFor(ctx, u)
		if err != nil {
			return err
		}
		pc := &pushrules.Context{
			UserID: u, MemberCount: memberCount, SenderPowerLevel: senderPL, NotificationLevels: levels,
			DisplayName: rs.displayName(u),
		}
		res := rules.Evaluate(pev, pc)
		if !res.Notify {
			continue
		}
		notes = append(notes, storage.Notification{
			UserID: u, RoomID: ev.RoomID, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: ev.ThreadID,
			Highlight: res.Highlight, Actions: res.ActionsJSON, TS: now,
		})
	}
	return storage.InsertNotifications(ctx, tx, notes)
}

// powerLevels returns the sender's level and the notifications levels.
func powerLevels(rs *roomState, sender string) (int64, map[string]int64) {
	levels := map[string]int64{"room": 50}
	pl := rs.get("m.room.power_levels", "")
	if pl == nil {
		// Without power levels the creator has 100, everyone else 0.
		if c := rs.get("m.room.create", ""); c != nil && gjson.GetBytes(c.JSON, "sender").Str == sender {
			return 100, levels
		}
		return 0, levels
	}
	content := gjson.GetBytes(pl.JSON, "content")
	content.Get("notifications").ForEach(func(k, v gjson.Result) bool {
		levels[k.String()] = v.Int()
		return true
	})
	if u := content.Get("users." + gjsonEscape(sender)); u.Exists() {
		return u.Int(), levels
	}
	return content.Get("users_default").Int(), levels
}

// gjsonEscape escapes characters gjson treats as path syntax.
func gjsonEscape(s string) string {
	out := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '*', '?', '|', '#', '@', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
