package syncapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/api"
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
	// gen changes when a cached user moves on or off the defaults (or
	// the cache starts over): rooms' push indexes are then rebuilt.
	gen atomic.Uint64
}

// maxCachedRuleSets bounds memory; past it the cache starts over.
const maxCachedRuleSets = 100000

func newPushCache() *pushCache {
	return &pushCache{rules: map[string]*pushrules.Compiled{}, defaults: map[string]bool{}}
}

func (p *pushCache) set(userID string, content []byte) {
	var rs *pushrules.Compiled
	if len(content) == 0 {
		rs = pushrules.CompileDefaults(userID)
	} else {
		rs = pushrules.Compile(pushrules.WithDefaults(userID, content))
	}
	p.mu.Lock()
	if len(p.rules) > maxCachedRuleSets {
		p.rules, p.defaults = map[string]*pushrules.Compiled{}, map[string]bool{}
		p.gen.Add(1)
	}
	if _, known := p.rules[userID]; known && p.defaults[userID] != (len(content) == 0) {
		p.gen.Add(1)
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
	p.gen.Add(1)
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
// returns whom to wake (the users notified, for their pushers) and the rows written
// (for the unread log, after the commit). The outcome most joined
// members share is stored once for the event, and a row per member only
// where it differs (a mention, a muted room, own rules, an ignored
// sender): a plain message in a big room costs one row, not one per
// member. Members on the default rules whom the event does not name
// share one result, so only the others are visited (pushIndex): the
// cost follows those, not the room's size.
func (s *SyncAPI) recordNotifications(ctx context.Context, tx *istorage.Tx, shared sharedNotificationStore, rs *roomState, ev *types.Event) (pushWake, storage.EventNotifications, error) {
	var w storage.EventNotifications
	if ev.Type == spec.MRoomCreate {
		return pushWake{}, w, nil
	}
	invitee := ""
	if ev.Type == spec.MRoomMember && ev.StateKey != nil && s.isLocal(*ev.StateKey) && *ev.StateKey != ev.Sender && ev.Membership == "invite" &&
		!s.ignoredBy(ctx, *ev.StateKey)[ev.Sender] {
		invitee = *ev.StateKey
	}
	idx, err := s.pushIndexOf(ctx, rs)
	if err != nil {
		return pushWake{}, w, err
	}
	pev := pushrules.NewEvent(ev.JSON) // parsed once for every member
	m := s.sortMembers(rs, idx, pev, ev.Sender)
	if len(m.each) == 0 && m.plainN == 0 && invitee == "" {
		return pushWake{}, w, nil
	}
	senderPL, levels, err := powerLevels(rs, ev.Sender)
	if err != nil {
		// Accepted by the auth rules yet unreadable: notify as if the
		// sender had no power rather than stop the stream.
		slog.Warn("push: unreadable power levels", "room", ev.RoomID, "error", err)
		senderPL, levels = 0, map[string]int64{"room": matrixrules.DefaultNotificationLevel}
	}
	var lastActions []byte // most members share actions: convert once
	var lastActionsStr string
	eval := func(u string) (pushOutcome, error) {
		rules, err := s.rulesFor(ctx, u)
		if err != nil {
			return pushOutcome{}, err
		}
		res := rules.Evaluate(pev, &pushrules.Context{
			UserID: u, MemberCount: rs.joinedN, SenderPowerLevel: senderPL, NotificationLevels: levels,
			DisplayName: rs.displayName(u),
		})
		o := pushOutcome{notify: res.Notify}
		if res.Notify {
			if lastActions == nil || !bytes.Equal(res.ActionsJSON, lastActions) {
				lastActions, lastActionsStr = res.ActionsJSON, string(res.ActionsJSON)
			}
			o.highlight, o.actions = res.Highlight, lastActionsStr
		}
		return o, nil
	}
	var t pushTally
	var plain pushOutcome
	if m.plainN > 0 {
		if plain, err = eval(m.sample); err != nil {
			return pushWake{}, w, err
		}
		t.add(plain, m.plainN)
	}
	results := make([]pushOutcome, len(m.each))
	for i, u := range m.each {
		if s.ignoredBy(ctx, u)[ev.Sender] {
			t.add(pushOutcome{}, 1) // nothing from an ignored sender
			continue
		}
		if results[i], err = eval(u); err != nil {
			return pushWake{}, w, err
		}
		t.add(results[i], 1)
	}
	common := t.shared()
	now := time.Now().UnixMilli()
	note := func(u string, o pushOutcome) storage.Notification {
		if !o.notify {
			o.actions = "[]"
		}
		return storage.Notification{
			UserID: u, RoomID: ev.RoomID, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: ev.ThreadID,
			Highlight: o.highlight, Suppress: !o.notify, Actions: json.RawMessage(o.actions), TS: now,
		}
	}
	differs := func(o pushOutcome) bool { return o != common && (o.notify || common.notify) }
	var notes []storage.Notification
	var wake pushWake
	for i, u := range m.each {
		if results[i].notify {
			wake.users = append(wake.users, u)
		}
		if differs(results[i]) {
			notes = append(notes, note(u, results[i]))
		}
	}
	if m.plainN > 0 && differs(plain) {
		// Plain members are not the majority (so few): a row each.
		for u := range idx.plain.all() {
			if m.isPlain(u) {
				notes = append(notes, note(u, plain))
			}
		}
	}
	if m.plainN > 0 && plain.notify {
		users, listed := s.plainWithPushers(idx, m)
		wake.users = append(wake.users, users...)
		wake.listed, wake.listing = listed, listed != api.NoPusherListing
	}
	if invitee != "" {
		o, err := eval(invitee)
		if err != nil {
			return pushWake{}, w, err
		}
		if o.notify {
			notes = append(notes, note(invitee, o))
			wake.users = append(wake.users, invitee)
		}
	}
	if common.notify {
		w.Shared = &storage.SharedNotification{
			RoomID: ev.RoomID, EventID: ev.EventID, EventPos: ev.Pos, ThreadID: ev.ThreadID, Sender: ev.Sender,
			Highlight: common.highlight, Actions: json.RawMessage(common.actions), TS: now,
		}
		if err := shared.InsertSharedNotification(ctx, tx, *w.Shared); err != nil {
			return pushWake{}, w, err
		}
	}
	w.Rows = notes
	return wake, w, s.db.InsertNotifications(ctx, tx, notes)
}

// sharedNotificationStore stores an event's shared push outcome: the
// database at once, or a consumer batch with its event rows.
type sharedNotificationStore interface {
	InsertSharedNotification(ctx context.Context, tx *istorage.Tx, n storage.SharedNotification) error
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
