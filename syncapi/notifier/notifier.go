// Package notifier wakes long-polling /sync requests. It holds the newest
// committed position of every stream and, per user, a channel that is
// closed when something for that user arrives — no polling.
package notifier

import (
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// Notifier is safe for concurrent use.
type Notifier struct {
	mu      sync.Mutex
	pos     types.StreamToken
	waiters map[string]chan struct{} // user -> closed on wake
	rooms   map[string]map[string]struct{}
	closed  chan struct{}
	once    sync.Once
	// publish, when set (syncapi replicas), is told every change made
	// here, under mu so the others see them in order.
	publish func(Wake)
}

// Wake is a change one syncapi replica tells the others (replicas.go), so
// their long-polls wake and their positions follow the shared database.
type Wake struct {
	// Pos is the sender's positions; Typing is not shared (each process
	// keeps its own) and is zero.
	Pos types.StreamToken `json:"pos"`
	// Users to wake.
	Users []string `json:"users,omitempty"`
	// Room's joined users are woken too; with RoomEvent, Members are the
	// membership changes of a room event (OnRoomEvent).
	Room      string            `json:"room,omitempty"`
	RoomEvent bool              `json:"room_event,omitempty"`
	Members   map[string]string `json:"members,omitempty"`
}

// SetPublish has every later change passed to publish (called with the
// notifier's lock held: it must not block or call back).
func (n *Notifier) SetPublish(publish func(Wake)) {
	n.mu.Lock()
	n.publish = publish
	n.mu.Unlock()
}

func (n *Notifier) publishLocked(w Wake) {
	if n.publish == nil {
		return
	}
	w.Pos = n.pos
	w.Pos.Typing = 0
	n.publish(w)
}

// Apply takes in a change another replica made: its positions (the
// newer of each), memberships and wakes. It is not published again.
func (n *Notifier) Apply(w Wake) {
	n.mu.Lock()
	defer n.mu.Unlock()
	typing := n.pos.Typing
	n.pos = n.pos.Max(w.Pos)
	n.pos.Typing = typing
	if w.RoomEvent {
		n.roomEventLocked(w.Room, w.Members)
	} else if w.Room != "" {
		for u := range n.rooms[w.Room] {
			n.wakeLocked(u)
		}
	}
	for _, u := range w.Users {
		n.wakeLocked(u)
	}
}

// New returns a notifier starting at pos with the given joined members.
func New(pos types.StreamToken, joined map[string][]string) *Notifier {
	n := &Notifier{pos: pos, waiters: map[string]chan struct{}{}, rooms: map[string]map[string]struct{}{}, closed: make(chan struct{})}
	for room, users := range joined {
		set := make(map[string]struct{}, len(users))
		for _, u := range users {
			set[u] = struct{}{}
		}
		n.rooms[room] = set
	}
	return n
}

// Current returns the newest committed position of every stream.
func (n *Notifier) Current() types.StreamToken {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pos
}

// Wait returns a channel closed when userID next has news (or on Close).
// Take it BEFORE reading data so nothing that lands in between is missed.
func (n *Notifier) Wait(userID string) <-chan struct{} {
	select {
	case <-n.closed:
		return n.closed
	default:
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.waiters[userID]
	if !ok {
		ch = make(chan struct{})
		n.waiters[userID] = ch
	}
	return ch
}

// Closed is closed when the notifier shuts down.
func (n *Notifier) Closed() <-chan struct{} { return n.closed }

// Close wakes every waiter for good.
func (n *Notifier) Close() {
	n.once.Do(func() {
		close(n.closed)
		n.mu.Lock()
		for u, ch := range n.waiters {
			close(ch)
			delete(n.waiters, u)
		}
		n.mu.Unlock()
	})
}

func (n *Notifier) wakeLocked(userID string) {
	if ch, ok := n.waiters[userID]; ok {
		close(ch)
		delete(n.waiters, userID)
	}
}

// Advance applies update to the positions, then wakes users.
func (n *Notifier) Advance(update func(t *types.StreamToken), users ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if update != nil {
		next := n.pos
		update(&next)
		n.pos = n.pos.Max(next)
	}
	for _, u := range users {
		n.wakeLocked(u)
	}
	n.publishLocked(Wake{Users: users})
}

// OnRoomEvent records membership changes (user -> membership) made by a
// room event at pos, advances the PDU stream and wakes the room's joined
// users plus everyone whose membership changed.
func (n *Notifier) OnRoomEvent(roomID string, pos types.StreamPosition, memberships map[string]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos > n.pos.PDU {
		n.pos.PDU = pos
	}
	n.roomEventLocked(roomID, memberships)
	n.publishLocked(Wake{Room: roomID, RoomEvent: true, Members: memberships})
}

func (n *Notifier) roomEventLocked(roomID string, memberships map[string]string) {
	set := n.rooms[roomID]
	for u, m := range memberships {
		if m == "join" {
			if set == nil {
				set = map[string]struct{}{}
				n.rooms[roomID] = set
			}
			set[u] = struct{}{}
		} else if set != nil {
			delete(set, u)
		}
		n.wakeLocked(u)
	}
	n.wakeMembersLocked(set)
}

// wakeMembersLocked wakes the waiting users of a room's joined set,
// walking whichever is smaller: a 10,000-member room with a few hundred
// long-polls costs a few hundred lookups per event, not 10,000.
func (n *Notifier) wakeMembersLocked(set map[string]struct{}) {
	if len(n.waiters) < len(set) {
		for u := range n.waiters {
			if _, ok := set[u]; ok {
				n.wakeLocked(u)
			}
		}
		return
	}
	for u := range set {
		n.wakeLocked(u)
	}
}

// ForgetRoom drops a purged room's joined users, waking them.
func (n *Notifier) ForgetRoom(roomID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wakeMembersLocked(n.rooms[roomID])
	delete(n.rooms, roomID)
}

// WakeRoom wakes every joined user of roomID (typing, receipts).
func (n *Notifier) WakeRoom(roomID string, update func(t *types.StreamToken)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if update != nil {
		next := n.pos
		update(&next)
		n.pos = n.pos.Max(next)
	}
	n.wakeMembersLocked(n.rooms[roomID])
	n.publishLocked(Wake{Room: roomID})
}

// JoinedUsers returns the joined users of roomID.
func (n *Notifier) JoinedUsers(roomID string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.rooms[roomID]))
	for u := range n.rooms[roomID] {
		out = append(out, u)
	}
	return out
}

// SharesRoom reports whether a and b are joined to a common room (for
// presence fan-out).
func (n *Notifier) SharesRoom(a, b string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, set := range n.rooms {
		_, okA := set[a]
		_, okB := set[b]
		if okA && okB {
			return true
		}
	}
	return false
}

// SharingRoom reports which of others are joined to a room with userID
// (userID itself included): cheaper than UsersSharingRoom when others
// are few and userID's rooms are big.
func (n *Notifier) SharingRoom(userID string, others []string) map[string]bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	var rooms []map[string]struct{}
	for _, set := range n.rooms {
		if _, ok := set[userID]; ok {
			rooms = append(rooms, set)
		}
	}
	out := map[string]bool{userID: true}
	for _, o := range others {
		for _, set := range rooms {
			if _, ok := set[o]; ok {
				out[o] = true
				break
			}
		}
	}
	return out
}

// UsersSharingRoom returns everyone joined to a room with userID.
func (n *Notifier) UsersSharingRoom(userID string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := map[string]struct{}{}
	for _, set := range n.rooms {
		if _, ok := set[userID]; !ok {
			continue
		}
		for u := range set {
			seen[u] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	return out
}
