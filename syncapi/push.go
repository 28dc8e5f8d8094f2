package syncapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
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
	// defaults: users without stored rules (the server defaults), whose
	// outcomes recordNotifications may share.
	defaults map[string]bool
}

// maxCachedRuleSets bounds memory; past it the cache starts over.
const maxCachedRuleSets = 100000

func newPushCache() *pushCache {
	return &pushCache{rules: map[string]*pushrules.Compiled{}, defaults: map[string]bool{}}
}

func (p *pushCache) set(userID string, content []byte) {
	rs := pushrules.Compile(pushrules.WithDefaults(userID, content))
	p.mu.Lock()
	if len(p.rules) > maxCachedRuleSets {
		p.rules, p.defaults = map[string]*pushrules.Compiled{}, map[string]bool{}
	}
	p.rules[userID] = rs
	if len(content) == 0 {
		p.defaults[userID] = true
	} else {
		delete(p.defaults, userID)
	}
	p.mu.Unlock()
}

// onDefaults reports whether userID's cached rules are the server
// defaults (false if not cached yet).
func (p *pushCache) onDefaults(userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.defaults[userID]
}

// reset drops every cached rule set.
func (p *pushCache) reset() {
	p.mu.Lock()
	p.rules, p.defaults = map[string]*pushrules.Compiled{}, map[string]bool{}
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
	content, err := s.db.GetAccountData(ctx, userID, "", matrixrules.MPushRules)
	if err != nil {
		return nil, err
	}
	s.push.set(userID, content)
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	return s.push.rules[userID], nil
}

// recordNotifications evaluates push rules of the room's local members
// (and an invited local user) for ev, in the consumer's transaction, and
// returns the users notified (for their pushers). The
// outcome most joined members share is stored once for the event, and a
// row per member only where it differs (a mention, a muted room, own
// rules): a plain message in a big room costs one row, not one per member.
func (s *SyncAPI) recordNotifications(ctx context.Context, tx *istorage.Tx, rs *roomState, ev *types.Event) ([]string, error) {
	if ev.Type == spec.MRoomCreate {
		return nil, nil
	}
	joined := make([]string, 0, len(rs.joined))
	for _, u := range rs.joined {
		if u != ev.Sender && s.isLocal(u) && !s.ignoredBy(ctx, u)[ev.Sender] {
			joined = append(joined, u)
		}
	}
	invitee := ""
	if ev.Type == spec.MRoomMember && ev.StateKey != nil && s.isLocal(*ev.StateKey) && *ev.StateKey != ev.Sender && ev.Membership == "invite" &&
		!s.ignoredBy(ctx, *ev.StateKey)[ev.Sender] {
		invitee = *ev.StateKey
	}
	if len(joined) == 0 && invitee == "" {
		return nil, nil
	}
	senderPL, levels, err := powerLevels(rs, ev.Sender)
	if err != nil {
		// Accepted by the auth rules yet unreadable: notify as if the
		// sender had no power rather than stop the stream.
		slog.Warn("push: unreadable power levels", "room", ev.RoomID, "error", err)
		senderPL, levels = 0, map[string]int64{"room": matrixrules.DefaultNotificationLevel}
	}
	pev := pushrules.NewEvent(ev.JSON) // parsed once for every member
	eval := func(u string) (pushrules.Result, error) {
		rules, err := s.rulesFor(ctx, u)
		if err != nil {
			return pushrules.Result{}, err
		}
		return rules.Evaluate(pev, &pushrules.Context{
			UserID: u, MemberCount: len(rs.joined), SenderPowerLevel: senderPL, NotificationLevels: levels,
			DisplayName: rs.displayName(u),
		}), nil
	}
	type outcome struct {
		notify, highlight bool
		actions           string
	}
	results := make([]outcome, len(joined))
	// Few distinct outcomes per event: a slice beats hashing each
	// member's actions string into a map.
	type count struct {
		o outcome
		n int
	}
	var tally []count
	add := func(o outcome) {
		for i := range tally {
			if tally[i].o == o {
				tally[i].n++
				return
			}
		}
		tally = append(tally, count{o, 1})
	}
	var lastActions []byte // most members share actions: convert once
	var lastActionsStr string
	// Members on the default rules whom the event does not name share one
	// result (pushrules.Event.MayName): evaluated for the first of them.
	var plain *outcome
	for i, u := range joined {
		shares := s.push.onDefaults(u) && !pev.MayName(u, rs.displayName(u))
		if shares && plain != nil {
			results[i] = *plain
			add(*plain)
			continue
		}
		res, err := eval(u)
		if err != nil {
			return nil, err
		}
		o := outcome{notify: res.Notify}
		if res.Notify {
			if lastActions == nil || !bytes.Equal(res.ActionsJSON, lastActions) {
				lastActions, lastActionsStr = res.ActionsJSON, string(res.ActionsJSON)
			}
			o.highlight, o.actions = res.Highlight, lastActionsStr
		}
		results[i] = o
		add(o)
		if shares {
			plain = &results[i]
		}
	}
	// The most common outcome is shared; zero (nobody shares a
	// notification) unless a notifying one beats the members not notified.
	var shared outcome
	sharedN := 0
	for _, c := range tally {
		if c.o == (outcome{}) {
			sharedN = c.n
		}
	}
	for _, c := range tally {
		if !c.o.notify {
			continue
		}
		if c.n > sharedN || (c.n == sharedN && c.o.actions < shared.actions) {
			shared, sharedN = c.o, c.n
		}
	}
	now := time.Now().UnixMilli()
	note := func(u string, o outcome) storage.Notification {
		return storage.Notification{
			UserID: u, RoomID: ev.RoomID, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: ev.ThreadID,
			Highlight: o.highlight, Suppress: !o.notify, Actions: json.RawMessage(o.actions), TS: now,
		}
	}
	var notes []storage.Notification
	var notified []string
	for i, u := range joined {
		if results[i].notify {
			notified = append(notified, u)
		}
		if o := results[i]; o != shared && (o.notify || shared.notify) {
			if !o.notify {
				o.actions = "[]"
			}
			notes = append(notes, note(u, o))
		}
	}
	if invitee != "" {
		res, err := eval(invitee)
		if err != nil {
			return nil, err
		}
		if res.Notify {
			notes = append(notes, note(invitee, outcome{true, res.Highlight, string(res.ActionsJSON)}))
			notified = append(notified, invitee)
		}
	}
	if shared.notify {
		err := s.db.InsertSharedNotification(ctx, tx, storage.SharedNotification{
			RoomID: ev.RoomID, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: ev.ThreadID, Sender: ev.Sender,
			Highlight: shared.highlight, Actions: json.RawMessage(shared.actions), TS: now,
		})
		if err != nil {
			return nil, err
		}
	}
	return notified, s.db.InsertNotifications(ctx, tx, notes)
}

// powerLevels returns the sender's level and the notification levels,
// by the room version's power rules (v12 creators are privileged).
func powerLevels(rs *roomState, sender string) (int64, map[string]int64, error) {
	p, err := rs.powerLevels()
	if err != nil {
		return 0, nil, err
	}
	return p.UserLevel(sender), p.NotificationLevels(), nil
}
