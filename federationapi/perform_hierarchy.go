package federationapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/matrix-org/gomatrix"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/jsontext"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

const (
	// hierarchyTimeout bounds one server's /hierarchy answer; a space
	// walk asks several servers in turn while a client waits.
	hierarchyTimeout = 10 * time.Second
	// hierarchyMaxServers is how many of a link's via servers are tried.
	hierarchyMaxServers = 5
	// hierarchyMaxBytes bounds an answer (a space of ~1,000 children).
	hierarchyMaxBytes = 4 << 20
	// hierarchyMaxRooms bounds the children and the children_state of one
	// room kept from an answer.
	hierarchyMaxRooms = 1000
)

// QueryHierarchy implements fedapi.FederationAPI.
func (f *FederationAPI) QueryHierarchy(ctx context.Context, req *fedapi.HierarchyRequest) (*fedapi.HierarchyResponse, error) {
	if _, err := spec.NewRoomID(req.RoomID); err != nil {
		return nil, fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "invalid room ID %q", req.RoomID)
	}
	servers := f.candidates(req.Servers, []string{string(domainOf(req.RoomID))})
	if len(servers) > hierarchyMaxServers {
		servers = servers[:hierarchyMaxServers]
	}
	if len(servers) == 0 {
		return nil, fedErr(http.StatusNotFound, "M_NOT_FOUND", "no other server to ask about %s", req.RoomID)
	}
	var last error
	for _, s := range servers {
		resp, err := f.hierarchyFrom(ctx, s, req)
		if err == nil {
			return resp, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// hierarchyFrom asks one server, bounded in time and size.
func (f *FederationAPI) hierarchyFrom(ctx context.Context, server spec.ServerName, req *fedapi.HierarchyRequest) (*fedapi.HierarchyResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, hierarchyTimeout)
	defer cancel()
	uri := "/_matrix/federation/v1/hierarchy/" + url.PathEscape(req.RoomID)
	if req.SuggestedOnly {
		uri += "?suggested_only=true"
	}
	resp, err := f.RawClient().Get(ctx, string(server), uri, true)
	if err != nil {
		return nil, remoteError(server, err)
	}
	defer resp.Body.Close() //nolint:errcheck
	body, err := io.ReadAll(io.LimitReader(resp.Body, hierarchyMaxBytes+1))
	if err != nil {
		return nil, remoteError(server, err)
	}
	if resp.StatusCode != http.StatusOK {
		he := gomatrix.HTTPError{Code: resp.StatusCode, Message: "hierarchy"}
		var re gomatrix.RespError
		if json.Unmarshal(body, &re) == nil && re.ErrCode != "" {
			he.WrappedError = re
		}
		return nil, remoteError(server, he)
	}
	bad := func(why string) error {
		return fedErr(http.StatusBadGateway, "M_UNKNOWN", "%s gave an unusable hierarchy for %s: %s", server, req.RoomID, why)
	}
	if len(body) > hierarchyMaxBytes {
		return nil, bad("too large")
	}
	if err := jsontext.Check(body); err != nil {
		return nil, bad(err.Error())
	}
	var out fedapi.HierarchyResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, bad(fmt.Sprintf("not a hierarchy: %v", err))
	}
	if out.Room.RoomID != req.RoomID {
		return nil, bad("it describes another room")
	}
	cleanHierarchyRoom(&out.Room)
	children := out.Children[:0]
	for _, c := range out.Children {
		if len(children) == hierarchyMaxRooms {
			break
		}
		if _, err := spec.NewRoomID(c.RoomID); err != nil || c.RoomID == req.RoomID {
			continue
		}
		cleanHierarchyRoom(&c)
		children = append(children, c)
	}
	out.Children = children
	if len(out.InaccessibleChildren) > hierarchyMaxRooms {
		out.InaccessibleChildren = out.InaccessibleChildren[:hierarchyMaxRooms]
	}
	return &out, nil
}

// cleanHierarchyRoom keeps what a walk can use of another server's room:
// at most hierarchyMaxRooms m.space.child events with a room ID state key.
func cleanHierarchyRoom(r *rsapi.HierarchyRoom) {
	kept := []rsapi.StrippedChild{}
	for _, c := range r.ChildrenState {
		if len(kept) == hierarchyMaxRooms {
			break
		}
		if c.Type != spec.MSpaceChild || len(c.Content) == 0 {
			continue
		}
		if _, err := spec.NewRoomID(c.StateKey); err != nil {
			continue
		}
		kept = append(kept, c)
	}
	r.ChildrenState = kept
}
