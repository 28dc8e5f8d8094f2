package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
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
// remembers, per handed-out pos, the stream token it stood for and which
// rooms the client has already been sent, so rooms are "initial" once.

type slidingConn struct {
	tokens map[string]types.StreamToken
	sent   map[string]bool
	next   int64
	used   time.Time
}

type slidingConns struct {
	mu    sync.Mutex
	conns map[string]*slidingConn
}

func newSlidingConns() *slidingConns { return &slidingConns{conns: map[string]*slidingConn{}} }

// maxSlidingConns bounds memory; the least recently used go first.
const maxSlidingConns = 10000

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
		conn = &slidingConn{tokens: map[string]types.StreamToken{}, sent: map[string]bool{}}
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
	conn := s.sliding.get(key, q.Get("pos") == "")
	if pos := q.Get("pos"); pos != "" {
		if conn == nil {
			return httputil.Error(http.StatusBadRequest, "M_UNKNOWN_POS", "Unknown pos")
		}
		s.sliding.mu.Lock()
		tok, ok := conn.tokens[pos]
		s.sliding.mu.Unlock()
		if !ok {
			return httputil.Error(http.StatusBadRequest, "M_UNKNOWN_POS", "Unknown pos")
		}
		since = &tok
	} else {
		s.sliding.mu.Lock()
		conn.sent = map[string]bool{}
		conn.tokens = map[string]types.StreamToken{}
		s.sliding.mu.Unlock()
	}
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
		resp, hasData, err := s.buildSliding(ctx, dev, &body, conn, since, cur)
		if err != nil {
			s.log.Error("sliding sync", "error", err)
			return httputil.InternalError()
		}
		if hasData || timer == nil {
			return httputil.OK(resp)
		}
		if !s.waitForNews(ctx, wake, timer) {
			return httputil.OK(resp)
		}
	}
}

func (s *SyncAPI) buildSliding(ctx context.Context, dev *uapi.Device, body *slidingRequest, conn *slidingConn, since *types.StreamToken, cur types.StreamToken) (map[string]any, bool, error) {
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
	s.sliding.mu.Lock()
	sent := make(map[string]bool, len(conn.sent))
	for k, v := range conn.sent {
		sent[k] = v
	}
	s.sliding.mu.Unlock()
	for id, cfg := range want {
		initial := !sent[id]
		if !initial && !changed[id] {
			continue
		}
		room, err := s.slidingRoom(ctx, dev, byRoom[id], cfg, initial, from, cur, bump[id])
		if err != nil {
			return nil, false, err
		}
		rooms[id] = room
		sent[id] = true
	}
	ext, extData, err := s.slidingExtensions(ctx, dev, body, ids, from, cur, since == nil)
	if err != nil {
		return nil, false, err
	}
	s.sliding.mu.Lock()
	conn.sent = sent
	conn.next++
	pos := strconv.FormatInt(conn.next, 10)
	conn.tokens[pos] = cur
	// Keep the last few positions so a retried request still works.
	for k := range conn.tokens {
		if n, _ := strconv.ParseInt(k, 10, 64); n < conn.next-10 {
			delete(conn.tokens, k)
		}
	}
	s.sliding.mu.Unlock()
	resp := map[string]any{"pos": pos, "lists": lists, "rooms": rooms, "extensions": ext}
	return resp, len(rooms) > 0 || extData || since == nil, nil
}

func mergeConfig(a, b slidingRoomConfig) slidingRoomConfig {
	a.TimelineLimit = max(a.TimelineLimit, b.TimelineLimit)
	a.RequiredState = append(a.RequiredState, b.RequiredState...)
	return a
}

func (s *SyncAPI) slidingRoom(ctx context.Context, dev *uapi.Device, m storage.MembershipChange, cfg slidingRoomConfig, initial bool, from, cur types.StreamToken, bump types.StreamPosition) (map[string]any, error) {
	rs, err := s.cache.get(ctx, m.RoomID)
	if err != nil {
		return nil, err
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
			return nil, err
		}
		room["invite_state"] = inv.InviteState.Events
		return room, nil
	}
	lo := from.PDU
	if initial {
		lo = 0
	}
	mv := s.newMemberView(ctx, dev.UserID, m.RoomID, m, "join")
	evs, limited, err := s.fetchTimeline(ctx, m.RoomID, lo, cur.PDU, cfg.TimelineLimit, nil, mv)
	if err != nil {
		return nil, err
	}
	tl := timeline{Events: []json.RawMessage{}}
	if err := s.fillTimeline(ctx, nil, &tl, evs, dev, mv, cur.PDU); err != nil {
		return nil, err
	}
	room["timeline"], room["limited"], room["prev_batch"] = tl.Events, limited, tl.PrevBatch
	room["num_live"] = 0
	if !initial {
		room["num_live"] = len(evs)
	}
	room["required_state"] = requiredState(rs, cfg.RequiredState, evs, dev.UserID)
	room["joined_count"], room["invited_count"] = len(rs.joined), len(rs.invited)
	counts, err := s.db.UnreadForRooms(ctx, dev.UserID, map[string]bool{m.RoomID: true}, cur.PDU)
	if err != nil {
		return nil, err
	}
	if c := counts[m.RoomID]; c != nil {
		room["notification_count"], room["highlight_count"] = c.Notification, c.Highlight
	} else {
		room["notification_count"], room["highlight_count"] = 0, 0
	}
	return room, nil
}

// requiredState selects state by [type, state_key] pairs, where "*" is a
// wildcard, "$ME" the user and "$LAZY" the timeline senders.
func requiredState(rs *roomState, want [][2]string, tl []*types.Event, userID string) []json.RawMessage {
	senders := map[string]bool{}
	for _, ev := range tl {
		senders[ev.Sender] = true
	}
	out := []json.RawMessage{}
	for _, ev := range rs.events {
		for _, w := range want {
			if w[0] != "*" && w[0] != ev.Type {
				continue
			}
			key := *ev.StateKey
			if w[1] == "*" || w[1] == key || (w[1] == "$ME" && key == userID) || (w[1] == "$LAZY" && senders[key]) {
				out = append(out, ev.Serve("", nil))
				break
			}
		}
	}
	return out
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
		if from.ToDevice > 0 {
			_ = s.db.DeleteToDeviceUpTo(ctx, dev.UserID, dev.ID, from.ToDevice)
		}
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
