package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Simplified sliding sync (MSC4186). A connection (user, device, conn_id)
// remembers, per handed-out pos, the stream token it stood for and what
// the client had been sent by then: which rooms, with which
// required_state config, and which members $LAZY sent. So a room is
// "initial" once, and an incremental response carries only the
// required_state that changed since pos, unless the room's required_state
// config changed or it left the lists' ranges and came back (then all of
// it). Retrying an earlier pos starts from what that pos had.

type slidingConn struct {
	positions map[string]slidingPos
	next      int64
	used      time.Time
}

// slidingPos is one handed-out pos.
type slidingPos struct {
	seq   int64 // n of the connection's n-th pos
	tok   types.StreamToken
	rooms map[string]*slidingSentRoom
}

// slidingSentRoom is what a connection has been sent of a room. Shared
// between positions: never changed once stored.
type slidingSentRoom struct {
	config string          // requiredStateKey of the config it was sent with
	lazy   map[string]bool // members sent because of $LAZY
}

type slidingConns struct {
	mu    sync.Mutex
	conns map[string]*slidingConn
}

func newSlidingConns() *slidingConns { return &slidingConns{conns: map[string]*slidingConn{}} }

// maxSlidingConns bounds memory; the least recently used go first.
const maxSlidingConns = 10000

// slidingKeptPositions is how many of a connection's latest positions
// stay usable (each holds a map of the rooms sent, so this multiplies a
// connection's memory): enough to retry a request whose response was
// lost; an older pos is M_UNKNOWN_POS and the client starts afresh.
const slidingKeptPositions = 3

func (c *slidingConns) get(key string, create bool) *slidingConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn := c.conns[key]
	if conn == nil && create {
		if len(c.conns) >= maxSlidingConns {
			var oldest string
			var at time.Time
			for k, v := range c.conns {
				if oldest == "" || v.used.Before(at) {
					oldest, at = k, v.used
				}
			}
			delete(c.conns, oldest)
		}
		conn = &slidingConn{positions: map[string]slidingPos{}}
		c.conns[key] = conn
	}
	if conn != nil {
		conn.used = time.Now()
	}
	return conn
}

type slidingRoomConfig struct {
	RequiredState [][2]string `json:"required_state"`
	TimelineLimit int         `json:"timeline_limit"`
}

type slidingList struct {
	slidingRoomConfig
	Ranges  [][2]int        `json:"ranges"`
	Filters *slidingFilters `json:"filters"`
}

type slidingRequest struct {
	ConnID            string                       `json:"conn_id"`
	Lists             map[string]slidingList       `json:"lists"`
	RoomSubscriptions map[string]slidingRoomConfig `json:"room_subscriptions"`
	Extensions        map[string]struct {
		Enabled bool `json:"enabled"`
	} `json:"extensions"`
}

func (s *SyncAPI) handleSlidingSync(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body slidingRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	q := req.URL.Query()
	var timeout time.Duration
	if v := q.Get("timeout"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return httputil.InvalidParam("timeout must be a non-negative integer")
		}
		timeout = min(time.Duration(ms)*time.Millisecond, maxSyncTimeout)
	}
	key := dev.UserID + "|" + dev.ID + "|" + body.ConnID
	var since *types.StreamToken
	var prev map[string]*slidingSentRoom
	if pos := q.Get("pos"); pos != "" {
		p, ok, err := s.slidingAt(ctx, key, pos)
		if err != nil {
			s.log.Error("sliding sync pos", "error", err)
			return httputil.InternalError()
		}
		if !ok {
			return httputil.Error(http.StatusBadRequest, "M_UNKNOWN_POS", "Unknown pos")
		}
		since, prev = &p.tok, p.rooms
	} else {
		conn := s.sliding.get(key, true)
		s.sliding.mu.Lock()
		conn.positions = map[string]slidingPos{}
		s.sliding.mu.Unlock()
		s.forgetSharedSliding(ctx, key)
	}
	conn := s.sliding.get(key, true)
	s.waitCaughtUp(ctx)
	var timer <-chan time.Time
	if since != nil && timeout > 0 {
		release, errResp := s.polls.take(dev.UserID)
		if errResp != nil {
			return *errResp
		}
		defer release()
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		wake := s.notif.Wait(dev.UserID)
		cur := s.notif.Current()
		resp, hasData, err := s.buildSliding(ctx, dev, &body, conn, since, prev, cur)
		if err != nil {
			s.log.Error("sliding sync", "error", err)
			return httputil.InternalError()
		}
		if hasData || timer == nil || !s.waitForNews(ctx, wake, timer) {
			s.shareSlidingPos(ctx, key, conn, resp["pos"].(string))
			return httputil.OK(resp)
		}
	}
}

func (s *SyncAPI) buildSliding(ctx context.Context, dev *uapi.Device, body *slidingRequest, conn *slidingConn, since *types.StreamToken, prev map[string]*slidingSentRoom, cur types.StreamToken) (map[string]any, bool, error) {
	var from types.StreamToken
	if since != nil {
		from = clampToken(*since, cur)
	}
	memberships, err := s.db.MembershipsAt(ctx, dev.UserID, cur.PDU)
	if err == nil {
		memberships, err = s.dropIgnoredInvites(ctx, dev.UserID, memberships)
	}
	if err != nil {
		return nil, false, err
	}
	byRoom := map[string]storage.MembershipChange{}
	var ids []string
	for _, m := range memberships {
		if m.Membership == "join" || m.Membership == "invite" {
			byRoom[m.RoomID] = m
			ids = append(ids, m.RoomID)
		}
	}
	bump, err := s.roomOrder(ctx, ids, byRoom, cur.PDU)
	if err != nil {
		return nil, false, err
	}
	want := map[string]slidingRoomConfig{}
	lists := map[string]any{}
	fc := &filterContext{s: s, ctx: ctx, userID: dev.UserID, byRoom: byRoom, inSpace: map[string]map[string]bool{}}
	for name, l := range body.Lists {
		var matched []string
		for _, id := range ids {
			ok, err := fc.allows(l.Filters, id)
			if err != nil {
				return nil, false, err
			}
			if ok {
				matched = append(matched, id)
			}
		}
		lists[name] = map[string]int{"count": len(matched)}
		for _, r := range l.Ranges {
			for i := max(r[0], 0); i <= r[1] && i < len(matched); i++ {
				want[matched[i]] = mergeConfig(want[matched[i]], l.slidingRoomConfig)
			}
		}
	}
	for id, cfg := range body.RoomSubscriptions {
		if _, ok := byRoom[id]; ok {
			want[id] = mergeConfig(want[id], cfg)
		}
	}
	changed := map[string]bool{}
	if since != nil {
		if changed, err = s.db.RoomsWithEvents(ctx, from.PDU, cur.PDU); err != nil {
			return nil, false, err
		}
	}
	rooms := map[string]any{}
	// Rooms outside every range and subscription are forgotten: if they
	// come back, they are sent in full again.
	sent := make(map[string]*slidingSentRoom, len(want))
	for id, cfg := range want {
		cfgKey := requiredStateKey(cfg.RequiredState)
		p := prev[id]
		if p != nil && p.config == cfgKey && !changed[id] {
			sent[id] = p
			continue
		}
		var stateSince types.StreamPosition // 0: all of required_state
		var lazySent map[string]bool
		if p != nil && p.config == cfgKey {
			stateSince, lazySent = from.PDU, p.lazy
		}
		room, lazy, err := s.slidingRoom(ctx, dev, byRoom[id], cfg, p == nil, stateSince, lazySent, from, cur, bump[id])
		if err != nil {
			return nil, false, err
		}
		rooms[id] = room
		sent[id] = &slidingSentRoom{config: cfgKey, lazy: lazy}
	}
	ext, extData, err := s.slidingExtensions(ctx, dev, body, ids, from, cur, since == nil)
	if err != nil {
		return nil, false, err
	}
	if sameSent(sent, prev) {
		sent = prev // share the map: most long-polls change nothing
	}
	s.sliding.mu.Lock()
	conn.next++
	pos := s.slidingPosName(conn.next)
	conn.positions[pos] = slidingPos{seq: conn.next, tok: cur, rooms: sent}
	// Keep the last few positions so a retried request still works.
	for k, p := range conn.positions {
		if p.seq <= conn.next-slidingKeptPositions {
			delete(conn.positions, k)
		}
	}
	s.sliding.mu.Unlock()
	resp := map[string]any{"pos": pos, "lists": lists, "rooms": rooms, "extensions": ext}
	return resp, len(rooms) > 0 || extData || since == nil, nil
}

// sameSent reports whether two positions' rooms are the same entries.
func sameSent(a, b map[string]*slidingSentRoom) bool {
	if len(a) != len(b) {
		return false
	}
	for id, r := range a {
		if b[id] != r {
			return false
		}
	}
	return true
}

// requiredStateKey identifies a required_state config, whatever the
// order of its pairs (lists are merged in map order).
func requiredStateKey(pairs [][2]string) string {
	keys := make([]string, 0, len(pairs))
	for _, p := range pairs {
		keys = append(keys, p[0]+"\x00"+p[1])
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\x01")
}

func mergeConfig(a, b slidingRoomConfig) slidingRoomConfig {
	a.TimelineLimit = max(a.TimelineLimit, b.TimelineLimit)
	a.RequiredState = append(a.RequiredState, b.RequiredState...)
	return a
}

// slidingRoom builds one room of a response. required_state is all of
// it when stateSince is 0, else only state that became current after
// stateSince plus $LAZY members not in lazySent; it returns the members
// $LAZY has sent by now.
func (s *SyncAPI) slidingRoom(ctx context.Context, dev *uapi.Device, m storage.MembershipChange, cfg slidingRoomConfig, initial bool,
	stateSince types.StreamPosition, lazySent map[string]bool, from, cur types.StreamToken, bump types.StreamPosition) (map[string]any, map[string]bool, error) {
	rs, err := s.cache.get(ctx, m.RoomID)
	if err != nil {
		return nil, nil, err
	}
	room := map[string]any{"initial": initial, "bump_stamp": bump}
	if n := rs.contentField(spec.MRoomName, "", "name").String(); n != "" {
		room["name"] = n
	} else {
		var hs []map[string]string
		for _, u := range heroes(rs, dev.UserID, 5) {
			hs = append(hs, map[string]string{"user_id": u})
		}
		room["heroes"] = hs
	}
	if m.Membership == "invite" {
		inv, err := s.invitedRoomSection(ctx, m)
		if err != nil {
			return nil, nil, err
		}
		room["invite_state"] = inv.InviteState.Events
		return room, nil, nil
	}
	lo := from.PDU
	if initial {
		lo = 0
	}
	mv := s.newMemberView(ctx, dev.UserID, m.RoomID, m, "join")
	evs, limited, err := s.fetchTimeline(ctx, m.RoomID, lo, cur.PDU, cfg.TimelineLimit, nil, mv)
	if err != nil {
		return nil, nil, err
	}
	tl := timeline{Events: []json.RawMessage{}}
	if err := s.fillTimeline(ctx, nil, &tl, evs, dev, mv, cur.PDU); err != nil {
		return nil, nil, err
	}
	room["timeline"], room["limited"], room["prev_batch"] = tl.Events, limited, tl.PrevBatch
	room["num_live"] = 0
	if !initial {
		room["num_live"] = len(evs)
	}
	var changedState map[string]bool // nil: all
	if stateSince > 0 {
		delta, err := s.db.StateChangedBetween(ctx, m.RoomID, stateSince, cur.PDU+1)
		if err != nil {
			return nil, nil, err
		}
		changedState = make(map[string]bool, len(delta))
		for _, ev := range delta {
			changedState[ev.EventID] = true
		}
	}
	var lazy map[string]bool
	room["required_state"], lazy = requiredState(rs, cfg.RequiredState, evs, dev.UserID, changedState, lazySent)
	room["joined_count"], room["invited_count"] = rs.joinedN, rs.invitedN
	counts, err := s.db.UnreadForRooms(ctx, dev.UserID, map[string]bool{m.RoomID: true}, nil, cur.PDU, cur.Receipt)
	if err != nil {
		return nil, nil, err
	}
	if c := counts[m.RoomID]; c != nil {
		room["notification_count"], room["highlight_count"] = c.Notification, c.Highlight
	} else {
		room["notification_count"], room["highlight_count"] = 0, 0
	}
	return room, lazy, nil
}

// requiredState selects state by [type, state_key] pairs, where "*" is a
// wildcard, "$ME" the user and "$LAZY" the timeline senders. With
// changed nil, all that matches; else only matching events in changed,
// and members matched by $LAZY that are not in lazySent. It returns
// lazySent with the members $LAZY sent now added (lazySent itself is
// not changed).
func requiredState(rs *roomState, want [][2]string, tl []*types.Event, userID string, changed, lazySent map[string]bool) ([]json.RawMessage, map[string]bool) {
	senders := map[string]bool{}
	for _, ev := range tl {
		senders[ev.Sender] = true
	}
	out := []json.RawMessage{}
	lazy := lazySent
	for _, ev := range rs.all() {
		key := *ev.StateKey
		matched, viaLazy := false, false
		for _, w := range want {
			if w[0] != "*" && w[0] != ev.Type {
				continue
			}
			if w[1] == "*" || w[1] == key || (w[1] == "$ME" && key == userID) {
				matched = true
			} else if w[1] == "$LAZY" && senders[key] {
				matched, viaLazy = true, true
			}
		}
		if !matched {
			continue
		}
		newLazy := viaLazy && !lazySent[key]
		if changed != nil && !changed[ev.EventID] && !newLazy {
			continue
		}
		out = append(out, ev.Serve("", nil))
		if newLazy {
			if len(lazy) == len(lazySent) { // copy before the first addition
				lazy = make(map[string]bool, len(lazySent)+1)
				for k := range lazySent {
					lazy[k] = true
				}
			}
			lazy[key] = true
		}
	}
	return out, lazy
}

func (s *SyncAPI) slidingExtensions(ctx context.Context, dev *uapi.Device, body *slidingRequest, rooms []string, from, cur types.StreamToken, initial bool) (map[string]any, bool, error) {
	ext := map[string]any{}
	hasData := false
	on := func(name string) bool { e, ok := body.Extensions[name]; return ok && e.Enabled }
	if on("to_device") {
		msgs, err := s.db.ToDeviceBetween(ctx, dev.UserID, dev.ID, from.ToDevice, cur.ToDevice, 100)
		if err != nil {
			return nil, false, err
		}
		s.ackToDevice(ctx, dev, from.ToDevice)
		evs := []json.RawMessage{}
		for _, m := range s.dropIgnoredToDevice(ctx, dev.UserID, msgs) {
			ev, _ := json.Marshal(map[string]any{"sender": m.Sender, "type": m.Type, "content": m.Content})
			evs = append(evs, ev)
		}
		hasData = hasData || len(evs) > 0
		ext["to_device"] = map[string]any{"next_batch": strconv.FormatInt(int64(cur.ToDevice), 10), "events": evs}
	}
	if on("e2ee") {
		e2ee, changed, err := s.e2eeExtension(ctx, dev, from, cur, initial)
		if err != nil {
			return nil, false, err
		}
		hasData = hasData || changed
		ext["e2ee"] = e2ee
	}
	if on("account_data") {
		ad, err := s.db.AccountDataBetween(ctx, dev.UserID, from.AccountData, cur.AccountData)
		if err != nil {
			return nil, false, err
		}
		global := []json.RawMessage{}
		byRoom := map[string][]json.RawMessage{}
		for _, a := range ad {
			ev, _ := json.Marshal(map[string]any{"type": a.Type, "content": a.Content})
			if a.RoomID == "" {
				global = append(global, ev)
			} else {
				byRoom[a.RoomID] = append(byRoom[a.RoomID], ev)
			}
		}
		hasData = hasData || len(ad) > 0
		ext["account_data"] = map[string]any{"global": global, "rooms": byRoom}
	}
	if on("receipts") {
		rcpts, err := s.db.ReceiptsBetween(ctx, rooms, from.Receipt, cur.Receipt)
		if err != nil {
			return nil, false, err
		}
		evs := receiptEvents(rcpts, dev.UserID)
		hasData = hasData || len(evs) > 0
		ext["receipts"] = map[string]any{"rooms": evs}
	}
	if on("typing") {
		out := map[string]json.RawMessage{}
		for _, id := range rooms {
			users, changed := s.typing.Users(id, from.Typing)
			if (initial && len(users) > 0) || (!initial && changed) {
				out[id], _ = json.Marshal(map[string]any{"type": matrixrules.MTyping, "content": map[string]any{"user_ids": users}})
			}
		}
		hasData = hasData || len(out) > 0
		ext["typing"] = map[string]any{"rooms": out}
	}
	return ext, hasData, nil
}
