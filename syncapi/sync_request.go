package syncapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// maxSyncTimeout caps a long-poll whatever the client asks.
const maxSyncTimeout = 5 * time.Minute

// syncRequest is a parsed GET /sync.
type syncRequest struct {
	device    *uapi.Device
	since     *types.StreamToken
	timeout   time.Duration
	fullState bool
	filter    *types.Filter
	presence  string
	// stateAfter names the parameter that asked for state_after
	// (stateAfterParam or stateAfterUnstable), "" for state.
	stateAfter string
	// newlyShared: users who came to share a room with the user since
	// the last sync (set while building rooms, read for presence).
	newlyShared []string
	// memberEvents: the member events since the last sync, read once.
	memberEvents memberEventsRead
	// joinedAll: the user's joined rooms at the sync's position, before
	// the room filter (set while building rooms, read for unread counts).
	joinedAll []string
}

func (s *SyncAPI) parseSyncRequest(req *http.Request, dev *uapi.Device) (*syncRequest, *httputil.JSONResponse) {
	q := req.URL.Query()
	sr := &syncRequest{device: dev, filter: &types.Filter{}}
	if v := q.Get("since"); v != "" {
		tok, err := types.ParseStreamToken(v)
		if err != nil {
			r := httputil.InvalidParam("Invalid since token")
			return nil, &r
		}
		sr.since = &tok
	}
	if v := q.Get("timeout"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			r := httputil.InvalidParam("timeout must be a non-negative integer")
			return nil, &r
		}
		sr.timeout = min(time.Duration(ms)*time.Millisecond, maxSyncTimeout)
	}
	switch v := q.Get("full_state"); v {
	case "", "false":
	case "true":
		sr.fullState = true
	default:
		r := httputil.InvalidParam("full_state must be true or false")
		return nil, &r
	}
	for _, param := range []string{stateAfterParam, stateAfterUnstable} {
		switch q.Get(param) {
		case "", "false":
		case "true":
			sr.stateAfter = param
		default:
			r := httputil.InvalidParam("%s must be true or false", param)
			return nil, &r
		}
	}
	switch v := q.Get("set_presence"); v {
	case "", "online", "offline", "unavailable":
		sr.presence = v
	default:
		r := httputil.InvalidParam("set_presence must be online, offline or unavailable")
		return nil, &r
	}
	if v := q.Get("filter"); v != "" {
		f, errResp := s.loadFilter(req.Context(), dev.UserID, v)
		if errResp != nil {
			return nil, errResp
		}
		sr.filter = f
	}
	return sr, nil
}

// loadFilter resolves a filter query parameter: inline JSON or a filter ID.
func (s *SyncAPI) loadFilter(ctx context.Context, userID, v string) (*types.Filter, *httputil.JSONResponse) {
	data := []byte(v)
	stored := !strings.HasPrefix(strings.TrimSpace(v), "{")
	if stored {
		if f, ok := s.filters.Get([2]string{userID, v}); ok {
			return f, nil
		}
		raw, err := s.db.GetFilter(ctx, userID, v)
		if err != nil {
			s.log.Error("load filter", "error", err)
			r := httputil.InternalError()
			return nil, &r
		}
		if raw == nil {
			r := httputil.InvalidParam("No such filter %q", v)
			return nil, &r
		}
		data = raw
	}
	f, err := types.ParseFilter(data)
	if err != nil {
		r := httputil.BadJSON("Invalid filter: %v", err)
		return nil, &r
	}
	if stored {
		s.filters.Put([2]string{userID, v}, f)
	}
	return f, nil
}

// handleSync serves GET /sync: compute a response from `since`; if it is
// empty, wait on the user's notifier channel until data or timeout.
func (s *SyncAPI) handleSync(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	sr, errResp := s.parseSyncRequest(req, dev)
	if errResp != nil {
		return *errResp
	}
	ctx := req.Context()
	if s.base.Cfg.Presence.Enabled {
		defer s.presence.syncStarted(dev.UserID)()
		s.touchPresence(ctx, dev.UserID, sr.presence)
	}
	if sr.since != nil {
		s.ackToDevice(ctx, dev, sr.since.ToDevice)
	}
	s.waitCaughtUp(ctx)
	initial := sr.since == nil || sr.fullState
	if initial {
		select {
		case s.initialSlots <- struct{}{}:
			defer func() { <-s.initialSlots }()
		case <-ctx.Done():
			return httputil.Unknown("Request cancelled")
		}
	}
	var timer <-chan time.Time
	if sr.timeout > 0 && !initial {
		release, errResp := s.polls.take(dev.UserID)
		if errResp != nil {
			return *errResp
		}
		defer release()
		t := time.NewTimer(sr.timeout)
		defer t.Stop()
		timer = t.C
	}
	for {
		wake := s.notif.Wait(dev.UserID)
		cur := s.notif.Current()
		if timer != nil && nothingSince(*sr.since, cur) {
			// Every stream is where the client's token says: the
			// response would be empty, so wait without building it.
			if s.waitForNews(ctx, wake, timer) {
				continue
			}
			timer = nil // build what there is and answer
			continue
		}
		resp, hasData, err := s.buildSync(ctx, sr, cur)
		if err != nil {
			if ctx.Err() != nil {
				return httputil.Unknown("Request cancelled")
			}
			s.log.Error("sync failed", "user_id", dev.UserID, "error", err)
			return httputil.InternalError()
		}
		if hasData || initial || timer == nil {
			return httputil.OK(resp)
		}
		if !s.waitForNews(ctx, wake, timer) {
			return httputil.OK(resp)
		}
	}
}

// nothingSince says whether no stream has moved past the client's token
// (an incremental sync would find nothing).
func nothingSince(since, cur types.StreamToken) bool {
	return clampToken(since, cur) == cur
}

// ackToDevice deletes the to-device messages a since token acknowledges.
// A token beyond the stream (made up, or from before a reset) counts only
// up to what exists, so nothing sent later is taken as acknowledged.
func (s *SyncAPI) ackToDevice(ctx context.Context, dev *uapi.Device, pos types.StreamPosition) {
	pos = min(pos, s.notif.Current().ToDevice)
	if pos <= 0 {
		return
	}
	if err := s.db.DeleteToDeviceUpTo(ctx, dev.UserID, dev.ID, pos); err != nil {
		s.log.Warn("delete acknowledged to-device messages", "error", err)
	}
}
