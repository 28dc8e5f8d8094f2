package syncapi

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// typingState is in-memory typing with expiry. Positions start at the
// wall clock in ms so they keep increasing across restarts, and a client's
// old token never looks newer than the new server's data.
type typingState struct {
	mu      sync.Mutex
	pos     types.StreamPosition
	rooms   map[string]map[string]time.Time // room -> user -> expiry
	changed map[string]types.StreamPosition // room -> position of last change
}

func newTypingState() *typingState {
	return &typingState{pos: types.StreamPosition(time.Now().UnixMilli()), rooms: map[string]map[string]time.Time{}, changed: map[string]types.StreamPosition{}}
}

// Position is the newest typing position.
func (t *typingState) Position() types.StreamPosition {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Set starts (timeout > 0) or stops a user typing; returns the new
// position, or 0 if nothing visible changed.
func (t *typingState) Set(roomID, userID string, typing bool, timeout time.Duration) types.StreamPosition {
	t.mu.Lock()
	defer t.mu.Unlock()
	users := t.rooms[roomID]
	_, was := users[userID]
	if typing {
		if users == nil {
			users = map[string]time.Time{}
			t.rooms[roomID] = users
		}
		users[userID] = time.Now().Add(timeout)
		if was {
			return 0 // refreshed, no visible change
		}
	} else {
		if !was {
			return 0
		}
		delete(users, userID)
		if len(users) == 0 {
			delete(t.rooms, roomID)
		}
	}
	t.pos++
	t.changed[roomID] = t.pos
	return t.pos
}

// Users returns who is typing in roomID (sorted) and whether that changed after since.
func (t *typingState) Users(roomID string, since types.StreamPosition) ([]string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.rooms[roomID]))
	for u := range t.rooms[roomID] {
		out = append(out, u)
	}
	sort.Strings(out)
	return out, t.changed[roomID] > since
}

// expireLoop removes typing users whose timeout passed.
func (t *typingState) expireLoop(ctx context.Context, wg *sync.WaitGroup, onExpire func(roomID string, pos types.StreamPosition)) {
	defer wg.Done()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			var expired []string
			t.mu.Lock()
			for room, users := range t.rooms {
				changed := false
				for u, exp := range users {
					if now.After(exp) {
						delete(users, u)
						changed = true
					}
				}
				if len(users) == 0 {
					delete(t.rooms, room)
				}
				if changed {
					t.pos++
					t.changed[room] = t.pos
					expired = append(expired, room)
				}
			}
			pos := t.pos
			t.mu.Unlock()
			for _, room := range expired {
				onExpire(room, pos)
			}
		}
	}
}

func (s *SyncAPI) onTypingExpired(roomID string, pos types.StreamPosition) {
	s.notif.WakeRoom(roomID, func(t *types.StreamToken) { t.Typing = pos })
}

// handleTyping serves PUT /rooms/{roomId}/typing/{userId}.
func (s *SyncAPI) handleTyping(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot set typing for another user")
	}
	if r := s.typingLimit.Check(req, dev.UserID); r != nil {
		return *r
	}
	var body struct {
		Typing  *bool  `json:"typing"`
		Timeout *int64 `json:"timeout"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Typing == nil {
		return httputil.BadJSON("Missing 'typing'")
	}
	joined, err := s.isJoined(req.Context(), dev.UserID, roomID)
	if err != nil {
		s.log.Error("typing", "error", err)
		return httputil.InternalError()
	}
	if !joined {
		return httputil.Forbidden("You are not in this room")
	}
	if dev.ShadowBanned {
		// Shadow-banned (admin API): appears to work, nobody sees it.
		return httputil.Empty()
	}
	timeout := 30 * time.Second
	if body.Timeout != nil && *body.Timeout > 0 {
		timeout = min(time.Duration(*body.Timeout)*time.Millisecond, 2*time.Minute)
	}
	s.presenceActivity(req.Context(), dev.UserID)
	if pos := s.typing.Set(roomID, dev.UserID, *body.Typing, timeout); pos > 0 {
		s.notif.WakeRoom(roomID, func(t *types.StreamToken) { t.Typing = pos })
	}
	s.publishEDU(req.Context(), stream.Typing, &api.OutputTyping{Origin: s.base.Cfg.ServerName, RoomID: roomID, UserID: dev.UserID,
		Typing: *body.Typing, TimeoutMS: timeout.Milliseconds()})
	return httputil.Empty()
}
