package clientapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

const (
	hierarchyDefaultLimit = 50
	hierarchyMaxLimit     = 100
	// hierarchyMaxDepth is the default and the largest max_depth.
	hierarchyMaxDepth = 50
	// hierarchyMaxVisited bounds the rooms one request looks at (shown or
	// not), so a huge or looping space costs a bounded amount.
	hierarchyMaxVisited = 2000
	// hierarchyRemoteBudget bounds the time one request spends asking
	// other servers; rooms it could not ask about in time are left out.
	hierarchyRemoteBudget = 30 * time.Second
	// hierarchyMaxRemote bounds the other-server requests of one request
	// (cached answers do not count).
	hierarchyMaxRemote = 50
)

// hierarchy serves GET /rooms/{roomId}/hierarchy: a depth-first walk of
// the space's m.space.child links in the spec's child order, over the
// rooms the user may see (hierarchyWalk.visible). Rooms this server is
// not in are asked of the servers their link names (federation
// /hierarchy, cached). "from" is a position in that walk, bound to the
// suggested_only and max_depth it was made with.
func (h *roomRoutes) hierarchy(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	root := req.PathValue("roomId")
	if r := checkRoomID(root); r != nil {
		return *r
	}
	q := req.URL.Query()
	limit, maxDepth := hierarchyDefaultLimit, hierarchyMaxDepth
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return httputil.InvalidParam("limit must be a positive integer")
		}
		limit = min(limit, hierarchyMaxLimit)
	}
	if v := q.Get("max_depth"); v != "" {
		if maxDepth, err = strconv.Atoi(v); err != nil || maxDepth < 0 {
			return httputil.InvalidParam("max_depth must be a non-negative integer")
		}
		maxDepth = min(maxDepth, hierarchyMaxDepth)
	}
	suggestedOnly := false
	switch v := q.Get("suggested_only"); v {
	case "", "false":
	case "true":
		suggestedOnly = true
	default:
		return httputil.InvalidParam("suggested_only must be true or false")
	}
	from := 0
	if v := q.Get("from"); v != "" {
		t, ok := parseHierarchyToken(v)
		if !ok || t.offset >= hierarchyMaxVisited {
			return httputil.InvalidParam("Unknown from token")
		}
		if t.suggestedOnly != suggestedOnly || t.maxDepth != maxDepth {
			return httputil.InvalidParam("suggested_only and max_depth cannot change on paginated requests")
		}
		from = t.offset
	}

	w := h.newHierarchyWalk(req.Context(), dev.UserID, suggestedOnly)
	defer w.cancel()
	rootRoom, ok := w.room(hierarchyNode{roomID: root})
	if !ok || !w.visible(rootRoom) {
		return httputil.Forbidden("You cannot view room %s", root)
	}
	rooms := w.walk(rootRoom, maxDepth, from+limit+1)
	resp := map[string]any{}
	if from < len(rooms) {
		resp["rooms"] = rooms[from:min(from+limit, len(rooms))]
	} else {
		resp["rooms"] = []rsapi.HierarchyRoom{}
	}
	if len(rooms) > from+limit {
		resp["next_batch"] = hierarchyToken{offset: from + limit, suggestedOnly: suggestedOnly, maxDepth: maxDepth}.String()
	}
	return httputil.OK(resp)
}

// hierarchyToken is a position in a walk and the options it was made with.
type hierarchyToken struct {
	offset        int
	suggestedOnly bool
	maxDepth      int
}

func (t hierarchyToken) String() string {
	s := 0
	if t.suggestedOnly {
		s = 1
	}
	return fmt.Sprintf("h%d_%d_%d", t.offset, s, t.maxDepth)
}

func parseHierarchyToken(v string) (hierarchyToken, bool) {
	parts := strings.Split(strings.TrimPrefix(v, "h"), "_")
	if !strings.HasPrefix(v, "h") || len(parts) != 3 {
		return hierarchyToken{}, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return hierarchyToken{}, false
		}
		n[i] = x
	}
	if n[1] > 1 {
		return hierarchyToken{}, false
	}
	return hierarchyToken{offset: n[0], suggestedOnly: n[1] == 1, maxDepth: n[2]}, true
}

// hierarchyWalk is one request's walk: the user, the options, and what
// it has learnt of memberships and other servers' answers.
type hierarchyWalk struct {
	h             *roomRoutes
	ctx           context.Context
	userID        string
	suggestedOnly bool
	// remoteCtx bounds the time spent asking other servers.
	remoteCtx context.Context
	cancel    context.CancelFunc
	remote    int
	members   map[string]string
}

// hierarchyNode is a room to look at: how it was reached and, when its
// parent came from another server, that server's answer about it.
type hierarchyNode struct {
	roomID string
	via    []string
	depth  int
	parent *remoteHierarchy
}

func (h *roomRoutes) newHierarchyWalk(ctx context.Context, userID string, suggestedOnly bool) *hierarchyWalk {
	remoteCtx, cancel := context.WithTimeout(ctx, hierarchyRemoteBudget)
	return &hierarchyWalk{h: h, ctx: ctx, userID: userID, suggestedOnly: suggestedOnly, remoteCtx: remoteCtx, cancel: cancel, members: map[string]string{}}
}

// walk returns up to want visible rooms in depth-first order from root
// (already checked), without rooms more than maxDepth links away.
func (w *hierarchyWalk) walk(root *hierarchyRoom, maxDepth, want int) []rsapi.HierarchyRoom {
	rooms := []rsapi.HierarchyRoom{root.HierarchyRoom}
	seen := map[string]bool{root.RoomID: true}
	var stack []hierarchyNode
	push := func(r *hierarchyRoom, depth int) {
		if depth >= maxDepth {
			return
		}
		links := r.Links()
		for i := len(links) - 1; i >= 0; i-- {
			stack = append(stack, hierarchyNode{roomID: links[i].RoomID, via: links[i].Via, depth: depth + 1, parent: r.remote})
		}
	}
	push(root, 0)
	for visited := 1; len(stack) > 0 && len(rooms) < want && visited < hierarchyMaxVisited; {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n.roomID] {
			continue
		}
		seen[n.roomID] = true
		visited++
		r, ok := w.room(n)
		if !ok || !w.visible(r) {
			continue
		}
		rooms = append(rooms, r.HierarchyRoom)
		push(r, n.depth)
	}
	return rooms
}

// hierarchyRoom is a room found by a walk; remote is the other server's
// answer it came from (nil for a room this server is in).
type hierarchyRoom struct {
	rsapi.HierarchyRoom
	remote *remoteHierarchy
}

// room describes n: from this server's state when it is in the room,
// else from the parent's remote answer (a non-space child), else by
// asking the servers of n's link (falling back to what this server last
// knew of a room it left). ok is false when nothing could be learnt or
// another server said the room is not for us.
func (w *hierarchyWalk) room(n hierarchyNode) (*hierarchyRoom, bool) {
	ctx := w.ctx
	local, lerr := w.h.rs.QueryHierarchyRoom(ctx, matrixid.RoomID(n.roomID), w.suggestedOnly)
	if lerr == nil {
		if in, err := w.h.rs.QueryServerInRoom(ctx, matrixid.RoomID(n.roomID), w.h.server); err == nil && in {
			return &hierarchyRoom{HierarchyRoom: *local}, true
		}
	}
	if p := n.parent; p != nil {
		if slices.Contains(p.resp.InaccessibleChildren, n.roomID) {
			return nil, false
		}
		for _, c := range p.resp.Children {
			if c.RoomID == n.roomID && !c.IsSpace() {
				c.ChildrenState = []rsapi.StrippedChild{}
				return &hierarchyRoom{HierarchyRoom: c}, true
			}
		}
	}
	if lerr == nil { // known but not joined: perhaps only invited
		n.via = append(slices.Clone(n.via), w.h.inviterServer(ctx, n.roomID, w.userID)...)
	}
	if rh := w.ask(n); rh != nil {
		room := rh.resp.Room
		if w.suggestedOnly {
			room.ChildrenState = onlySuggested(room.ChildrenState)
		}
		if !room.IsSpace() {
			room.ChildrenState = []rsapi.StrippedChild{}
		}
		room.ChildrenState = rsapi.SortChildren(room.ChildrenState)
		return &hierarchyRoom{HierarchyRoom: room, remote: rh}, true
	}
	if lerr == nil {
		return &hierarchyRoom{HierarchyRoom: *local}, true
	}
	return nil, false
}

// ask asks other servers about n, within the request's budget (once it
// is spent, only cached answers are used).
func (w *hierarchyWalk) ask(n hierarchyNode) *remoteHierarchy {
	mayFetch := w.remote < hierarchyMaxRemote && w.remoteCtx.Err() == nil
	rh, fetched := w.h.remoteHierarchy(w.remoteCtx, n.roomID, n.via, w.suggestedOnly, mayFetch)
	if fetched {
		w.remote++
	}
	return rh
}

// visible: may the user see r in a hierarchy? Joined or invited, or the
// room may be previewed (matrixrules.RoomPreview; restricted rooms when
// the user is joined to an allowed room); never when banned from it.
func (w *hierarchyWalk) visible(r *hierarchyRoom) bool {
	switch w.membership(r.RoomID) {
	case "join", "invite":
		return true
	case "ban":
		return false
	}
	return r.Preview().Previewable(func(id string) bool { return w.membership(id) == "join" })
}

func (w *hierarchyWalk) membership(roomID string) string {
	if m, ok := w.members[roomID]; ok {
		return m
	}
	m, _, err := w.h.rs.QueryMembership(w.ctx, matrixid.RoomID(roomID), matrixid.UserID(w.userID))
	if err != nil {
		m = ""
	}
	w.members[roomID] = m
	return m
}

// onlySuggested keeps the suggested links (another server may not have
// honoured suggested_only).
func onlySuggested(children []rsapi.StrippedChild) []rsapi.StrippedChild {
	out := []rsapi.StrippedChild{}
	for _, c := range children {
		if gjson.GetBytes(c.Content, "suggested").Type == gjson.True {
			out = append(out, c)
		}
	}
	return out
}
