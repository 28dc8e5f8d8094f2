package clientapi

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// accountRooms carries account changes into the user's rooms: a new
// display name or avatar is re-sent as the user's m.room.member in every
// joined room, and a deactivated user leaves every room (rejecting
// invites, rescinding knocks).
type accountRooms struct {
	h   *roomRoutes
	log *slog.Logger
	// profileLocks serialise one user's profile propagations: each reads
	// the profile when it runs, so the last change wins in every room.
	profileLocks [64]sync.Mutex
}

const (
	// roomFanout bounds the rooms one account change updates at once, so
	// a user in thousands of rooms does not flood the roomserver.
	roomFanout = 4
	// roomChangeTimeout bounds one room's update (a remote leave waits
	// on another server).
	roomChangeTimeout = 30 * time.Second
)

func (c *ClientAPI) newAccountRooms() *accountRooms {
	return &accountRooms{h: &roomRoutes{c: c, rs: c.rooms, server: c.base.Cfg.ServerName}, log: c.base.Log}
}

// forEachRoom runs fn on every room, roomFanout at a time, each with its
// own timeout.
func forEachRoom(ctx context.Context, rooms []string, fn func(ctx context.Context, roomID string) error, onErr func(roomID string, err error)) {
	sem := make(chan struct{}, roomFanout)
	var wg sync.WaitGroup
	for _, roomID := range rooms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, roomChangeTimeout)
			defer cancel()
			if err := fn(ctx, roomID); err != nil {
				onErr(roomID, err)
			}
		}()
	}
	wg.Wait()
}

// profileChanged re-sends userID's membership, with the current profile,
// into every room they are joined to. It returns at once: the client's
// 200 does not wait for the rooms.
func (ar *accountRooms) profileChanged(userID string) {
	if ar == nil {
		return
	}
	go func() {
		h := fnv.New32a()
		h.Write([]byte(userID))
		mu := &ar.profileLocks[h.Sum32()%uint32(len(ar.profileLocks))]
		mu.Lock()
		defer mu.Unlock()
		ctx := context.Background()
		rooms, err := ar.h.rs.QueryRoomsForUser(ctx, matrixid.UserID(userID), "join")
		if err != nil {
			ar.log.Warn("profile change: listing rooms", "user_id", userID, "error", err)
			return
		}
		dn, av := ar.h.profile(ctx, userID)
		forEachRoom(ctx, matrixid.Strings(rooms), func(ctx context.Context, roomID string) error {
			return ar.updateMember(ctx, userID, roomID, dn, av)
		}, func(roomID string, err error) {
			ar.log.Warn("profile change: updating membership", "user_id", userID, "room_id", roomID, "error", err)
		})
	}()
}

// updateMember sends a join with the new profile, keeping the rest of
// the current member event's content.
func (ar *accountRooms) updateMember(ctx context.Context, userID, roomID, displayName, avatarURL string) error {
	raw, _, err := ar.h.stateContent(ctx, roomID, spec.MRoomMember, userID)
	if err != nil {
		return err
	}
	content := map[string]any{}
	if raw != nil {
		if err := json.Unmarshal(raw, &content); err != nil {
			return err
		}
	}
	if content["membership"] != "join" {
		return nil // left meanwhile
	}
	// Only valid with the authorising server's signature, and not needed
	// by a join that follows a join.
	delete(content, "join_authorised_via_users_server")
	changed := setProfileValue(content, "displayname", displayName)
	if setProfileValue(content, "avatar_url", avatarURL) {
		changed = true
	}
	if !changed {
		return nil
	}
	data, err := json.Marshal(content)
	if err != nil {
		return err
	}
	sk := userID
	_, r := ar.h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember, StateKey: &sk, Content: data}, nil, unknownRoom(roomID))
	return responseError(r)
}

// setProfileValue sets (or, for "", removes) key and reports a change.
func setProfileValue(content map[string]any, key, value string) bool {
	old, had := content[key]
	if value == "" {
		delete(content, key)
		return had
	}
	content[key] = value
	return old != value
}

// leaveAll makes a deactivated user leave every room. Failures are
// logged: the account is deactivated either way.
func (ar *accountRooms) leaveAll(ctx context.Context, userID string) {
	if ar == nil {
		return
	}
	ctx = context.WithoutCancel(ctx) // finish even if the client goes away
	for _, membership := range []string{"join", "invite", "knock"} {
		rooms, err := ar.h.rs.QueryRoomsForUser(ctx, matrixid.UserID(userID), membership)
		if err != nil {
			ar.log.Warn("deactivation: listing rooms", "user_id", userID, "membership", membership, "error", err)
			continue
		}
		forEachRoom(ctx, matrixid.Strings(rooms), func(ctx context.Context, roomID string) error {
			return ar.leave(ctx, userID, roomID, membership)
		}, func(roomID string, err error) {
			ar.log.Warn("deactivation: leaving room", "user_id", userID, "room_id", roomID, "error", err)
		})
	}
}

// leave leaves one room; an invite or knock to a room this server is not
// in is answered through the inviting server.
func (ar *accountRooms) leave(ctx context.Context, userID, roomID, current string) error {
	if current != "join" && !ar.h.serverInRoom(ctx, roomID) {
		r := ar.h.remoteLeave(ctx, userID, roomID, "")
		return responseError(&r)
	}
	_, r := ar.h.setMembership(ctx, userID, roomID, userID, "leave", "", nil, unknownRoom(roomID))
	return responseError(r)
}

// responseError turns an error response of a room helper into an error.
func responseError(r *httputil.JSONResponse) error {
	if r == nil || r.Code < 300 {
		return nil
	}
	body, _ := json.Marshal(r.JSON)
	return fmt.Errorf("status %d: %s", r.Code, body)
}
