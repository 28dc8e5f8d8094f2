package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handleNotifications serves GET /notifications.
func (s *SyncAPI) handleNotifications(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	q := req.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return httputil.InvalidParam("limit must be a positive integer")
		}
		limit = min(n, 100)
	}
	var from int64
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return httputil.InvalidParam("Invalid from token")
		}
		from = n
	}
	onlyHighlight := q.Get("only") == "highlight"
	// Notifications of events acknowledged before the request are listed.
	s.waitCaughtUp(ctx)
	ns, err := s.db.Notifications(ctx, dev.UserID, from, limit+1, onlyHighlight)
	if err != nil {
		s.log.Error("notifications", "error", err)
		return httputil.InternalError()
	}
	more := len(ns) > limit
	if more {
		ns = ns[:limit]
	}
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.EventID
	}
	evs, err := s.db.EventsByIDs(ctx, ids)
	if err != nil {
		s.log.Error("notifications", "error", err)
		return httputil.InternalError()
	}
	byID := map[string]json.RawMessage{}
	ignored := s.ignoredBy(ctx, dev.UserID)
	for _, ev := range evs {
		if !hiddenByIgnore(ev, ignored) {
			byID[ev.EventID] = ev.Serve("", nil)
		}
	}
	readUpTo := map[string]map[string]int64{}
	out := []map[string]any{}
	for _, n := range ns {
		ev := byID[n.EventID]
		if ev == nil {
			continue
		}
		out = append(out, map[string]any{"actions": n.Actions, "event": ev, "read": s.isRead(ctx, readUpTo, n), "room_id": n.RoomID, "ts": n.TS})
	}
	resp := map[string]any{"notifications": out}
	if more {
		resp["next_token"] = strconv.FormatInt(ns[len(ns)-1].ID, 10)
	}
	return httputil.OK(resp)
}

// isRead reports whether the user's receipts cover notification n.
func (s *SyncAPI) isRead(ctx context.Context, cache map[string]map[string]int64, n storage.Notification) bool {
	read, ok := cache[n.RoomID]
	if !ok {
		got, err := s.db.ReadUpTo(ctx, n.UserID, n.RoomID)
		if err != nil {
			return false
		}
		read = map[string]int64{}
		for k, v := range got {
			read[k] = int64(v)
		}
		cache[n.RoomID] = read
	}
	key := n.ThreadID
	if key == "" {
		key = "main"
	}
	return int64(n.EventPos) <= read[""] || int64(n.EventPos) <= read[key]
}
