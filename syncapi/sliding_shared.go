package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Sliding sync connections across replicas (docs/scaling.md). With
// several syncapi replicas each handed-out pos is also stored in the
// shared table syncapi_sliding_positions, so a client moved to another
// replica continues its connection there: a pos unknown in memory is
// read from the table. A pos names the replica that made it
// ("<n>.<instance>"), so two replicas answering the same request (a
// retry) make two distinct positions. One process keeps positions in
// memory only.

// slidingPositionMaxAge is how long a stored pos stays usable unused.
const slidingPositionMaxAge = 7 * 24 * time.Hour

// slidingSharedRoom is slidingSentRoom as stored.
type slidingSharedRoom struct {
	Config string   `json:"c"`
	Lazy   []string `json:"l,omitempty"`
}

// slidingPosName is the pos string of a connection's n-th position.
func (s *SyncAPI) slidingPosName(n int64) string {
	if s.replica == nil {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10) + "." + s.replica.instance
}

// slidingAt finds pos of the connection key: in memory, else (replicas)
// in the shared table, then kept in memory too.
func (s *SyncAPI) slidingAt(ctx context.Context, key, pos string) (slidingPos, bool, error) {
	if conn := s.sliding.get(key, false); conn != nil {
		s.sliding.mu.Lock()
		p, ok := conn.positions[pos]
		s.sliding.mu.Unlock()
		if ok || s.replica == nil {
			return p, ok, nil
		}
	} else if s.replica == nil {
		return slidingPos{}, false, nil
	}
	stored, ok, err := s.db.SlidingPositionAt(ctx, key, pos)
	if err != nil || !ok {
		return slidingPos{}, false, err
	}
	p, err := decodeSlidingPos(stored)
	if err != nil {
		return slidingPos{}, false, fmt.Errorf("stored sliding sync pos %s: %w", pos, err)
	}
	conn := s.sliding.get(key, true)
	s.sliding.mu.Lock()
	conn.next = max(conn.next, p.seq)
	conn.positions[pos] = p
	s.sliding.mu.Unlock()
	return p, true, nil
}

// shareSlidingPos stores the pos a response hands out for the other
// replicas (and drops the connection's positions too old to be retried);
// positions made and passed over within a long-poll stay in memory. A
// failure only costs a client that moves replica its connection
// (M_UNKNOWN_POS there).
func (s *SyncAPI) shareSlidingPos(ctx context.Context, key string, conn *slidingConn, pos string) {
	if s.replica == nil {
		return
	}
	s.sliding.mu.Lock()
	p, ok := conn.positions[pos]
	s.sliding.mu.Unlock()
	if !ok {
		return
	}
	rooms := make(map[string]slidingSharedRoom, len(p.rooms))
	for id, r := range p.rooms {
		lazy := make([]string, 0, len(r.lazy))
		for m := range r.lazy {
			lazy = append(lazy, m)
		}
		slices.Sort(lazy)
		rooms[id] = slidingSharedRoom{Config: r.config, Lazy: lazy}
	}
	data, err := json.Marshal(rooms)
	if err == nil {
		err = s.db.SaveSlidingPosition(ctx, key, pos, storage.SlidingPosition{Seq: p.seq, Token: p.tok.String(), Rooms: string(data)},
			p.seq-slidingKeptPositions, time.Now().UnixMilli())
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("store sliding sync pos for the other replicas", "error", err)
	}
}

// forgetSharedSliding drops a restarted connection's stored positions.
func (s *SyncAPI) forgetSharedSliding(ctx context.Context, key string) {
	if s.replica == nil {
		return
	}
	if err := s.db.ForgetSlidingConn(ctx, key); err != nil && ctx.Err() == nil {
		s.log.Warn("forget sliding sync connection", "error", err)
	}
}

// pruneSharedSliding drops positions of connections long unused.
func (s *SyncAPI) pruneSharedSliding(ctx context.Context, now time.Time) {
	if s.replica == nil {
		return
	}
	if _, err := s.db.PruneSlidingPositions(ctx, now.Add(-slidingPositionMaxAge).UnixMilli()); err != nil && ctx.Err() == nil {
		s.log.Warn("prune sliding sync positions", "error", err)
	}
}

func decodeSlidingPos(stored storage.SlidingPosition) (slidingPos, error) {
	tok, err := types.ParseStreamToken(stored.Token)
	if err != nil {
		return slidingPos{}, err
	}
	var rooms map[string]slidingSharedRoom
	if err := json.Unmarshal([]byte(stored.Rooms), &rooms); err != nil {
		return slidingPos{}, err
	}
	p := slidingPos{seq: stored.Seq, tok: tok, rooms: make(map[string]*slidingSentRoom, len(rooms))}
	for id, r := range rooms {
		sent := &slidingSentRoom{config: r.Config}
		if len(r.Lazy) > 0 {
			sent.lazy = make(map[string]bool, len(r.Lazy))
			for _, m := range r.Lazy {
				sent.lazy[m] = true
			}
		}
		p.rooms[id] = sent
	}
	return p, nil
}
