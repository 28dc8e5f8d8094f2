package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/axon-hs/axon/internal/httputil"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// End-to-end encryption data in /sync: device_lists (users whose keys
// changed, or who started or stopped sharing a room with the user),
// one-time key counts and unused fallback key types. Key changes come
// from the keyserver on the device_list_updates stream and are numbered
// on syncapi's own device list position (the last field of a /sync
// token), so GET /keys/changes, which takes /sync tokens, is served here.

// startDeviceLists connects the keyserver (New does it when given one):
// starts consuming device list updates and serves GET /keys/changes.
// Without it /sync carries empty E2EE fields.
func (s *SyncAPI) startDeviceLists(ctx context.Context, keys Keys) error {
	pos, err := s.db.DeviceListPosition(ctx)
	if err != nil {
		return err
	}
	s.notif.Advance(func(t *types.StreamToken) { t.DeviceList = pos })
	st, err := s.base.Stream(ctx, stream.DeviceListUpdates)
	if err != nil {
		return err
	}
	s.keys = keys
	s.streams[stream.DeviceListUpdates] = st
	return nil
}

// consumeDeviceLists applies key changes until runCtx ends.
func (s *SyncAPI) consumeDeviceLists(ctx, runCtx context.Context) (<-chan struct{}, error) {
	seq, err := s.db.ConsumerSeq(ctx, stream.DeviceListUpdates)
	if err != nil {
		return nil, fmt.Errorf("syncapi %s position: %w", stream.DeviceListUpdates, err)
	}
	s.progress.set(stream.DeviceListUpdates, seq)
	return s.streams[stream.DeviceListUpdates].Consume(runCtx, "syncapi", seq, s.deadLetterer(stream.DeviceListUpdates), func(ctx context.Context, msg stream.Message) error {
		if err := s.onDeviceListMsg(ctx, msg); err != nil {
			return err
		}
		s.progress.set(stream.DeviceListUpdates, msg.Seq)
		return nil
	})
}

// onDeviceListMsg records a user's key change at a new device list
// position and wakes everyone who shares a room with them.
func (s *SyncAPI) onDeviceListMsg(ctx context.Context, msg stream.Message) error {
	var u ksapi.DeviceListUpdate
	if err := json.Unmarshal(msg.Data, &u); err != nil || u.UserID == "" {
		return stream.Poison(fmt.Errorf("malformed device list update: %v", err))
	}
	var pos types.StreamPosition
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		if pos, err = s.db.AddDeviceListChange(ctx, tx, u.UserID); err != nil {
			return err
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.DeviceListUpdates, msg.Seq)
	})
	if err != nil {
		return err
	}
	s.notif.Advance(func(t *types.StreamToken) { t.DeviceList = pos }, append(s.notif.UsersSharingRoom(u.UserID), u.UserID)...)
	return nil
}

// addE2EE fills the /sync E2EE fields; device_lists only on incremental
// syncs, as the spec says. keys, if not nil, is the key counts' read
// started with the request (startKeyCounts).
func (s *SyncAPI) addE2EE(ctx context.Context, dev *uapi.Device, keys *keyCountsRead, memo *memberEventsRead, since, cur types.StreamToken, initial bool, resp *syncResponse) error {
	if s.keys == nil {
		return nil
	}
	if keys == nil {
		keys = s.startKeyCounts(ctx, dev)
	}
	// An unreachable keyserver (polylith) must not fail every /sync: the
	// counts are left empty and the client asks again next time.
	if counts, err := keys.wait(); err != nil {
		s.log.Warn("one-time key counts", "user_id", dev.UserID, "error", err)
	} else {
		resp.DeviceOneTimeKeysCount = counts.OneTimeKeyCounts
		resp.DeviceUnusedFallbackKeyTyp = counts.UnusedFallbackKeyAlgs
	}
	if !initial {
		lists, err := s.deviceListChanges(ctx, dev.UserID, memo, since, cur)
		if err != nil {
			return err
		}
		resp.DeviceLists = lists
	}
	return nil
}

// e2eeExtension is the sliding sync "e2ee" extension.
func (s *SyncAPI) e2eeExtension(ctx context.Context, dev *uapi.Device, from, cur types.StreamToken, initial bool) (map[string]any, bool, error) {
	resp := newSyncResponse()
	if err := s.addE2EE(ctx, dev, nil, nil, from, cur, initial, resp); err != nil {
		return nil, false, err
	}
	return map[string]any{
		"device_lists":                     resp.DeviceLists,
		"device_one_time_keys_count":       resp.DeviceOneTimeKeysCount,
		"device_unused_fallback_key_types": resp.DeviceUnusedFallbackKeyTyp,
	}, len(resp.DeviceLists.Changed)+len(resp.DeviceLists.Left) > 0, nil
}

// deviceListChanges computes device_lists for (since, cur]: users sharing
// a room with userID (and userID) whose keys changed, users who started
// sharing a room with them (changed) and users who no longer share any
// room (left). Room sharing is judged on current membership. memo, if
// not nil, shares the member events read with the rest of the /sync.
func (s *SyncAPI) deviceListChanges(ctx context.Context, userID string, memo *memberEventsRead, since, cur types.StreamToken) (deviceLists, error) {
	out := deviceLists{Changed: []string{}, Left: []string{}}
	var keyUsers []string
	var events []storage.MembershipChange
	var err error
	if since.DeviceList < cur.DeviceList {
		if keyUsers, err = s.db.DeviceListChangesBetween(ctx, since.DeviceList, cur.DeviceList); err != nil {
			return out, err
		}
	}
	if since.PDU < cur.PDU {
		if events, err = s.memberEventsBetween(ctx, memo, since.PDU, cur.PDU); err != nil {
			return out, err
		}
	}
	members := map[string][]string{} // room → current joined users, read once
	joined := func(roomID string) []string {
		if m, ok := members[roomID]; ok {
			return m
		}
		members[roomID] = s.notif.JoinedUsers(roomID)
		return members[roomID]
	}
	// Only the users these changes name are checked for sharing a room
	// with userID: listing everyone who does costs a big room's size on
	// every sync.
	candidates := slices.Clone(keyUsers)
	for _, e := range events {
		candidates = append(candidates, e.UserID)
		if e.UserID == userID && e.Membership != "join" {
			candidates = append(candidates, joined(e.RoomID)...)
		}
	}
	shared := map[string]bool{userID: true}
	if len(candidates) > 0 {
		shared = s.notif.SharingRoom(userID, candidates)
	}
	changed, left := map[string]bool{}, map[string]bool{}
	for _, u := range keyUsers {
		if shared[u] {
			changed[u] = true
		}
	}
	isIn := func(roomID, u string) bool {
		for _, m := range joined(roomID) {
			if m == u {
				return true
			}
		}
		return false
	}
	for _, e := range events {
		switch {
		case e.UserID == userID: // we joined or left: everyone there
			for _, m := range joined(e.RoomID) {
				if e.Membership == "join" {
					changed[m] = true
				} else if !shared[m] {
					left[m] = true
				}
			}
		case !isIn(e.RoomID, userID):
		case e.Membership == "join" && shared[e.UserID]:
			changed[e.UserID] = true
		case e.Membership != "join" && !shared[e.UserID]:
			left[e.UserID] = true
		}
	}
	for u := range changed {
		out.Changed = append(out.Changed, u)
	}
	for u := range left {
		if !changed[u] && u != userID && !shared[u] {
			out.Left = append(out.Left, u)
		}
	}
	return out, nil
}

// handleKeyChanges serves GET /keys/changes?from=&to= (/sync tokens).
func (s *SyncAPI) handleKeyChanges(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	q := req.URL.Query()
	if q.Get("from") == "" || q.Get("to") == "" {
		return httputil.MissingParam("from and to are required")
	}
	from, err := types.ParseStreamToken(q.Get("from"))
	if err != nil {
		return httputil.InvalidParam("Invalid from token")
	}
	to, err := types.ParseStreamToken(q.Get("to"))
	if err != nil {
		return httputil.InvalidParam("Invalid to token")
	}
	s.waitCaughtUp(req.Context())
	cur := s.notif.Current()
	to = clampToken(to, cur)
	from = clampToken(from, to)
	lists, err := s.deviceListChanges(req.Context(), dev.UserID, nil, from, to)
	if err != nil {
		s.log.Error("key changes", "user_id", dev.UserID, "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(lists)
}
