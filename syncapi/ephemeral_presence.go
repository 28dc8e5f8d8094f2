package syncapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Presence timing. The spec leaves it to servers; these follow common
// practice: idle users become unavailable, users with no client syncing
// become offline.
const (
	presenceIdleAfter    = 5 * time.Minute
	presenceOfflineAfter = 30 * time.Second
	presenceReapEvery    = 5 * time.Second
)

// presenceTracker keeps, in memory, what presence needs per local user
// and must not cost a write per request: syncs in flight, when the last
// one ended, when the user last did something, and the stored state.
// Lost on restart: tracked users then count from the restart.
type presenceTracker struct {
	mu           sync.Mutex
	users        map[string]*presenceActivity
	idleAfter    time.Duration
	offlineAfter time.Duration
}

type presenceActivity struct {
	syncing    int
	lastSync   time.Time
	lastActive time.Time
	state      string // stored presence; "" until known
	idled      bool   // unavailable set by the idle timer, not the user
}

func newPresenceTracker() *presenceTracker {
	return &presenceTracker{users: map[string]*presenceActivity{}, idleAfter: presenceIdleAfter, offlineAfter: presenceOfflineAfter}
}

// entry returns the user's activity record; the caller holds mu.
func (p *presenceTracker) entry(userID string, now time.Time) *presenceActivity {
	a := p.users[userID]
	if a == nil {
		a = &presenceActivity{lastSync: now, lastActive: now}
		p.users[userID] = a
	}
	return a
}

// syncStarted marks a /sync in flight; the returned func ends it.
func (p *presenceTracker) syncStarted(userID string) func() {
	p.mu.Lock()
	p.entry(userID, time.Now()).syncing++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		a := p.entry(userID, time.Now())
		a.syncing--
		a.lastSync = time.Now()
		p.mu.Unlock()
	}
}

// lastActive returns the newest known activity time (unix ms) of userID,
// given the stored one.
func (p *presenceTracker) lastActive(userID string, stored int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.users[userID]; a != nil && a.lastActive.UnixMilli() > stored {
		return a.lastActive.UnixMilli()
	}
	return stored
}

// stored records the state just written for userID.
func (p *presenceTracker) stored(userID, state string, idled bool) {
	p.mu.Lock()
	a := p.entry(userID, time.Now())
	a.state, a.idled = state, idled
	if state == "online" {
		a.lastActive = time.Now()
	}
	p.mu.Unlock()
}

// loadStates seeds the tracker with stored non-offline local users (at
// start), so they time out if no client comes back.
func (s *SyncAPI) loadPresenceStates(ctx context.Context) error {
	ps, err := s.db.PresenceNotOffline(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	s.presence.mu.Lock()
	defer s.presence.mu.Unlock()
	for _, p := range ps {
		if s.isLocal(p.UserID) {
			a := s.presence.entry(p.UserID, now)
			a.state = p.Presence
			a.lastActive = time.UnixMilli(max(p.LastActiveTS, 0))
		}
	}
	return nil
}

// stateOf returns the stored presence of userID, read once from the
// database and then kept by the tracker.
func (s *SyncAPI) stateOf(ctx context.Context, userID string) (string, *storage.Presence, error) {
	s.presence.mu.Lock()
	a := s.presence.entry(userID, time.Now())
	state := a.state
	s.presence.mu.Unlock()
	if state != "" {
		return state, nil, nil
	}
	cur, err := s.db.GetPresence(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	state = "offline"
	if cur != nil {
		state = cur.Presence
	}
	s.presence.mu.Lock()
	if a.state == "" {
		a.state = state
	}
	s.presence.mu.Unlock()
	return state, cur, nil
}

// touchPresence applies set_presence from /sync (omitted means online).
// Syncing brings an offline user online but does not count as activity,
// so an idle user stays unavailable while their client polls; an
// explicit unavailable/offline is applied as asked. Only changes write.
func (s *SyncAPI) touchPresence(ctx context.Context, userID, presence string) {
	if presence == "" {
		presence = "online"
	}
	state, _, err := s.stateOf(ctx, userID)
	if err != nil {
		s.log.Warn("read presence", "error", err)
		return
	}
	if state == presence || (presence == "online" && state == "unavailable") {
		return
	}
	s.changePresence(ctx, userID, presence, false)
}

// presenceActivity records that a local user did something (sent an
// event, a receipt, typing): an idle-unavailable user is online again.
func (s *SyncAPI) presenceActivity(ctx context.Context, userID string) {
	if !s.base.Cfg.Presence.Enabled || !s.isLocal(userID) {
		return
	}
	s.presence.mu.Lock()
	a := s.presence.entry(userID, time.Now())
	a.lastActive = time.Now()
	wake := a.state == "unavailable" && a.idled
	s.presence.mu.Unlock()
	if wake {
		s.changePresence(ctx, userID, "online", false)
	}
}

// changePresence stores a new state for userID, keeping its status message.
func (s *SyncAPI) changePresence(ctx context.Context, userID, presence string, idled bool) {
	cur, err := s.db.GetPresence(ctx, userID)
	if err != nil {
		s.log.Warn("read presence", "error", err)
		return
	}
	p := storage.Presence{UserID: userID, Presence: presence, LastActiveTS: s.presence.lastActive(userID, 0), CurrentlyActive: presence == "online"}
	if presence == "online" {
		p.LastActiveTS = time.Now().UnixMilli()
	}
	if cur != nil {
		p.StatusMsg = cur.StatusMsg
		p.LastActiveTS = max(p.LastActiveTS, cur.LastActiveTS)
	}
	if err := s.setPresence(ctx, p); err != nil {
		s.log.Warn("set presence", "error", err)
		return
	}
	s.presence.stored(userID, presence, idled)
}

// reapPresence applies the timers at now: online users idle for
// idleAfter become unavailable; users with no sync in flight and none
// for offlineAfter become offline.
func (s *SyncAPI) reapPresence(ctx context.Context, now time.Time) {
	type change struct {
		user, state string
		idled       bool
	}
	var changes []change
	p := s.presence
	p.mu.Lock()
	for u, a := range p.users {
		switch {
		case a.state != "online" && a.state != "unavailable":
			if a.syncing == 0 && now.Sub(a.lastSync) > p.offlineAfter {
				delete(p.users, u) // offline and gone: forget
			}
		case a.syncing == 0 && now.Sub(a.lastSync) > p.offlineAfter:
			changes = append(changes, change{u, "offline", false})
		case a.state == "online" && now.Sub(a.lastActive) > p.idleAfter:
			changes = append(changes, change{u, "unavailable", true})
		}
	}
	p.mu.Unlock()
	for _, c := range changes {
		s.changePresence(ctx, c.user, c.state, c.idled)
	}
}

// handleGetPresence serves GET /presence/{userId}/status.
func (s *SyncAPI) handleGetPresence(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	userID := req.PathValue("userId")
	if !s.base.Cfg.Presence.Enabled {
		return httputil.OK(map[string]any{"presence": "offline"})
	}
	if userID != dev.UserID && !s.sharesRoomNow(req.Context(), userID, dev.UserID) {
		return httputil.Forbidden("You do not share a room with this user")
	}
	p, err := s.db.GetPresence(req.Context(), userID)
	if err != nil {
		s.log.Error("get presence", "error", err)
		return httputil.InternalError()
	}
	if p == nil {
		return httputil.OK(map[string]any{"presence": "offline"})
	}
	p.LastActiveTS = s.presence.lastActive(p.UserID, p.LastActiveTS)
	return httputil.OK(presenceContent(*p))
}

// sharesRoomNow reports whether two users share a room, counting joins
// acknowledged before the call that syncapi has not applied yet: a "no"
// is asked again once it has caught up, so a user who just joined a room
// may read its members' presence at once.
func (s *SyncAPI) sharesRoomNow(ctx context.Context, a, b string) bool {
	if s.notif.SharesRoom(a, b) {
		return true
	}
	s.waitCaughtUp(ctx)
	return s.notif.SharesRoom(a, b)
}

// handleSetPresence serves PUT /presence/{userId}/status.
func (s *SyncAPI) handleSetPresence(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot set presence for another user")
	}
	var body struct {
		Presence  string  `json:"presence"`
		StatusMsg *string `json:"status_msg"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	switch body.Presence {
	case "online", "offline", "unavailable":
	default:
		return httputil.InvalidParam("presence must be online, offline or unavailable")
	}
	if !s.base.Cfg.Presence.Enabled {
		return httputil.Empty()
	}
	p := storage.Presence{UserID: dev.UserID, Presence: body.Presence, StatusMsg: body.StatusMsg,
		LastActiveTS: time.Now().UnixMilli(), CurrentlyActive: body.Presence == "online"}
	if err := s.setPresence(req.Context(), p); err != nil {
		s.log.Error("set presence", "error", err)
		return httputil.InternalError()
	}
	s.presence.stored(dev.UserID, body.Presence, false)
	return httputil.Empty()
}
