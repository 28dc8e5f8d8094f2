package clientapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

func TestHierarchyToken(t *testing.T) {
	for _, tok := range []hierarchyToken{{0, false, 50}, {7, true, 0}, {1999, false, 3}} {
		got, ok := parseHierarchyToken(tok.String())
		if !ok || got != tok {
			t.Errorf("%+v -> %q -> %+v %v", tok, tok.String(), got, ok)
		}
	}
	for _, bad := range []string{"", "h", "h1_0", "h1_2_3", "x1_0_3", "h-1_0_3", "h1_0_3_4", "h1_a_3"} {
		if _, ok := parseHierarchyToken(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// answers is a FederationAPI whose QueryHierarchy gives err, or else an
// answer about the room asked, counting the calls.
type answers struct {
	fedapi.FederationAPI
	err   error
	calls int
}

func (a *answers) QueryHierarchy(_ context.Context, req *fedapi.HierarchyRequest) (*fedapi.HierarchyResponse, error) {
	a.calls++
	if a.err != nil {
		return nil, a.err
	}
	return &fedapi.HierarchyResponse{Room: rsapi.HierarchyRoom{RoomID: req.RoomID, ChildrenState: []rsapi.StrippedChild{}}}, nil
}

// TestRemoteHierarchyCache: answers are kept, so are failures to reach
// a server, but not a server's own "no"; without mayFetch only the cache
// answers.
func TestRemoteHierarchyCache(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct {
		err       error
		wantCalls int
	}{
		"answer":      {nil, 1},
		"unreachable": {&fedapi.Error{Status: http.StatusBadGateway, Code: "M_UNKNOWN"}, 1},
		"timeout":     {&fedapi.Error{Status: http.StatusGatewayTimeout, Code: "M_UNKNOWN"}, 1},
		"not found":   {&fedapi.Error{Status: http.StatusNotFound, Code: "M_NOT_FOUND"}, 2},
		"forbidden":   {&fedapi.Error{Status: http.StatusForbidden, Code: "M_FORBIDDEN"}, 2},
	} {
		fed := &answers{err: c.err}
		h := &roomRoutes{c: &ClientAPI{fed: fed}, remoteHierarchies: newRemoteHierarchyCache()}
		if rh, fetched := h.remoteHierarchy(ctx, "!r:x", nil, false, false); rh != nil || fetched || fed.calls != 0 {
			t.Fatalf("%s: asked without mayFetch", name)
		}
		for range 2 {
			rh, _ := h.remoteHierarchy(ctx, "!r:x", []string{"x"}, false, true)
			if (rh != nil) != (c.err == nil) {
				t.Fatalf("%s: answer %v", name, rh)
			}
		}
		if fed.calls != c.wantCalls {
			t.Errorf("%s: %d calls, want %d", name, fed.calls, c.wantCalls)
		}
		if _, fetched := h.remoteHierarchy(ctx, "!r:x", nil, true, true); !fetched {
			t.Errorf("%s: suggested_only answer not asked separately", name)
		}
	}
}

// TestRemoteHierarchyCacheBound: the cache never holds more than its
// cost bound.
func TestRemoteHierarchyCacheBound(t *testing.T) {
	c := newRemoteHierarchyCache()
	big := remoteHierarchyMaxCost/2 + 1
	c.put("a", remoteHierarchyEntry{cost: big, expires: time.Now().Add(time.Minute)})
	c.put("b", remoteHierarchyEntry{cost: big, expires: time.Now().Add(time.Minute)})
	if _, ok := c.get("a"); ok || c.cost != big {
		t.Fatalf("cost %d after two entries of %d (bound %d)", c.cost, big, remoteHierarchyMaxCost)
	}
	if _, ok := c.get("b"); !ok {
		t.Fatal("newest entry dropped")
	}
	c.put("old", remoteHierarchyEntry{cost: 1, expires: time.Now().Add(-time.Second)})
	if _, ok := c.get("old"); ok || c.cost != big {
		t.Fatalf("expired entry served (cost %d)", c.cost)
	}
}
