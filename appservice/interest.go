package appservice

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// aliasRefresh is how long a room's aliases are trusted: directory
// aliases change without a room event.
const aliasRefresh = time.Minute

// roomQuerier is what interest needs of the roomserver.
type roomQuerier interface {
	QueryCurrentState(ctx context.Context, roomID matrixid.RoomID, tuples []rsapi.StateKey) ([]*rsapi.Event, error)
	QueryAliasesForRoom(ctx context.Context, roomID matrixid.RoomID) ([]string, error)
	QueryRoomsForUser(ctx context.Context, userID matrixid.UserID, membership string) ([]matrixid.RoomID, error)
	// QueryStateDelta reads a state change too big for its output.
	rsapi.StateDeltaQuerier
}

// roomInfo is what decides which appservices a room's events go to.
type roomInfo struct {
	// members are the room's joined local users that some appservice
	// owns (only those matter).
	members   map[string]bool
	aliases   []string
	aliasesAt time.Time
}

// interest decides which appservices are interested in what. Room
// membership is loaded from the roomserver once per room, then kept up
// to date from the member events the consumer sees (as other
// homeservers do, it is the room's current membership that counts).
type interest struct {
	apps       []*config.AppService // those with a URL
	serverName string
	rooms      roomQuerier
	anyAliases bool // some appservice has alias namespaces

	mu    sync.Mutex
	cache map[string]*roomInfo
}

func newInterest(apps []*config.AppService, serverName string, rooms roomQuerier) *interest {
	in := &interest{apps: apps, serverName: serverName, rooms: rooms, cache: map[string]*roomInfo{}}
	for _, a := range apps {
		if len(a.Namespaces.Aliases) > 0 {
			in.anyAliases = true
		}
	}
	return in
}

func (in *interest) local(userID string) bool { return strings.HasSuffix(userID, ":"+in.serverName) }

// owned says whether some appservice owns userID (a local user).
func (in *interest) owned(userID string) bool {
	if !in.local(userID) {
		return false
	}
	for _, a := range in.apps {
		if a.OwnsUser(userID, in.serverName) {
			return true
		}
	}
	return false
}

// room returns the room's info, loading it on first use and refreshing
// aliases when stale.
func (in *interest) room(ctx context.Context, roomID string) (*roomInfo, error) {
	in.mu.Lock()
	info := in.cache[roomID]
	in.mu.Unlock()
	if info == nil {
		evs, err := in.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
		if err != nil && !roomGone(err) { // retried by the consumer; a room the roomserver lacks has no members
			return nil, err
		}
		info = &roomInfo{members: map[string]bool{}}
		for _, ev := range evs {
			if sk := ev.StateKey(); sk != nil && in.owned(*sk) && gjson.GetBytes(ev.Content(), "membership").Str == "join" {
				info.members[*sk] = true
			}
		}
		in.mu.Lock()
		if existing := in.cache[roomID]; existing != nil {
			info = existing
		} else {
			in.cache[roomID] = info
		}
		in.mu.Unlock()
	}
	if in.anyAliases && time.Since(in.aliasesAt(info)) > aliasRefresh {
		aliases, err := in.loadAliases(ctx, roomID)
		if err != nil {
			return nil, err
		}
		in.mu.Lock()
		info.aliases, info.aliasesAt = aliases, time.Now()
		in.mu.Unlock()
	}
	return info, nil
}

func (in *interest) aliasesAt(info *roomInfo) time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return info.aliasesAt
}

// loadAliases is the room's directory aliases and its canonical alias
// and alt_aliases.
func (in *interest) loadAliases(ctx context.Context, roomID string) ([]string, error) {
	aliases, err := in.rooms.QueryAliasesForRoom(ctx, matrixid.RoomID(roomID))
	if err != nil && !roomGone(err) {
		return nil, err
	}
	evs, err := in.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: spec.MRoomCanonicalAlias}})
	if err != nil && !roomGone(err) {
		return nil, err
	}
	for _, ev := range evs {
		c := gjson.ParseBytes(ev.Content())
		if a := c.Get("alias").Str; a != "" {
			aliases = append(aliases, a)
		}
		for _, a := range c.Get("alt_aliases").Array() {
			aliases = append(aliases, a.Str)
		}
	}
	return aliases, nil
}

// roomGone: the roomserver does not know the room (nothing to load;
// retrying would stop the consumer on one message forever).
func roomGone(err error) bool {
	e, ok := rsapi.AsError(err)
	return ok && e.Code == rsapi.CodeNotFound
}

// follows: the room is cached, so observe would update it.
func (in *interest) follows(roomID string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cache[roomID] != nil
}

// observe updates the cached room from one event: membership of owned
// users, and a canonical alias change makes the aliases stale.
func (in *interest) observe(roomID, evType string, stateKey *string, content json.RawMessage) {
	in.mu.Lock()
	defer in.mu.Unlock()
	info := in.cache[roomID]
	if info == nil || stateKey == nil {
		return
	}
	switch evType {
	case spec.MRoomMember:
		if !in.owned(*stateKey) {
			return
		}
		if gjson.GetBytes(content, "membership").Str == "join" {
			info.members[*stateKey] = true
		} else {
			delete(info.members, *stateKey)
		}
	case spec.MRoomCanonicalAlias:
		info.aliasesAt = time.Time{}
	}
}

// roomInterested says whether a is interested in everything in the room
// (room ID or alias in its namespaces, or one of its users joined).
func (in *interest) roomInterested(a *config.AppService, roomID string, info *roomInfo) bool {
	if a.InRoomNamespace(roomID) {
		return true
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for u := range info.members {
		if a.OwnsUser(u, in.serverName) {
			return true
		}
	}
	for _, alias := range info.aliases {
		if a.InAliasNamespace(alias) {
			return true
		}
	}
	return false
}

// userInterested says whether userID is a local user a owns.
func (in *interest) userInterested(a *config.AppService, userID string) bool {
	return in.local(userID) && a.OwnsUser(userID, in.serverName)
}

// forEvent lists the appservices interested in a room event: its sender
// or (membership) target is theirs, or the room is.
func (in *interest) forEvent(ctx context.Context, roomID, sender string, stateKey *string, evType string) ([]*config.AppService, error) {
	info, err := in.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	var out []*config.AppService
	for _, a := range in.apps {
		if in.userInterested(a, sender) ||
			(evType == spec.MRoomMember && stateKey != nil && in.userInterested(a, *stateKey)) ||
			in.roomInterested(a, roomID, info) {
			out = append(out, a)
		}
	}
	return out, nil
}

// forRoom lists the appservices interested in the room as a whole (room
// ephemeral data), or in userID acting in it.
func (in *interest) forRoom(ctx context.Context, roomID, userID string, only func(*config.AppService) bool) ([]*config.AppService, error) {
	info, err := in.room(ctx, roomID)
	if err != nil {
		return nil, err
	}
	var out []*config.AppService
	for _, a := range in.apps {
		if only(a) && (in.userInterested(a, userID) || in.roomInterested(a, roomID, info)) {
			out = append(out, a)
		}
	}
	return out, nil
}
