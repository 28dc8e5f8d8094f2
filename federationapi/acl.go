package federationapi

import (
	"context"
	"sync"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Server ACLs (m.room.server_acl): a denied server's PDUs, EDUs and
// requests for the room are refused. Compiled ACLs are cached by the
// event ID that set them, so a changed ACL applies at once.
type aclCache struct {
	mu sync.Mutex
	m  map[string]*serverACL // room ID → ACL
}

type serverACL struct {
	eventID string
	*matrixrules.ServerACL
}

// aclDenies reports whether the room's server ACL denies server.
func (f *FederationAPI) aclDenies(ctx context.Context, roomID string, server spec.ServerName) bool {
	evs, err := f.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), []rsapi.StateKey{{Type: matrixrules.MRoomServerACL}})
	if err != nil || len(evs) == 0 {
		return false
	}
	ev := evs[0]
	f.acls.mu.Lock()
	defer f.acls.mu.Unlock()
	if f.acls.m == nil {
		f.acls.m = map[string]*serverACL{}
	}
	acl := f.acls.m[roomID]
	if acl == nil || acl.eventID != ev.EventID() {
		acl = &serverACL{eventID: ev.EventID(), ServerACL: matrixrules.ParseServerACL(ev.Content())}
		f.acls.m[roomID] = acl
	}
	return !acl.Allows(server)
}
