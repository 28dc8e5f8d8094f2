package federationapi

import (
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
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
	eventID         string
	allowIPLiterals bool
	allow, deny     []*regexp.Regexp
}

// globRegexp compiles a server-name glob (* and ?).
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range glob {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func parseACL(eventID string, content []byte) *serverACL {
	var c struct {
		Allow           []any `json:"allow"`
		Deny            []any `json:"deny"`
		AllowIPLiterals *bool `json:"allow_ip_literals"`
	}
	acl := &serverACL{eventID: eventID, allowIPLiterals: true}
	if json.Unmarshal(content, &c) != nil {
		return acl
	}
	if c.AllowIPLiterals != nil {
		acl.allowIPLiterals = *c.AllowIPLiterals
	}
	for _, a := range c.Allow {
		if s, ok := a.(string); ok {
			acl.allow = append(acl.allow, globRegexp(s))
		}
	}
	for _, d := range c.Deny {
		if s, ok := d.(string); ok {
			acl.deny = append(acl.deny, globRegexp(s))
		}
	}
	return acl
}

// allows applies the spec's order: IP literals, deny, then allow (an
// empty allow list allows nothing). The port is not part of the match.
func (a *serverACL) allows(server spec.ServerName) bool {
	host, _, ok := spec.ParseAndValidateServerName(server)
	if !ok {
		return false
	}
	h := strings.Trim(host, "[]")
	if !a.allowIPLiterals && net.ParseIP(h) != nil {
		return false
	}
	for _, d := range a.deny {
		if d.MatchString(host) {
			return false
		}
	}
	for _, al := range a.allow {
		if al.MatchString(host) {
			return true
		}
	}
	return false
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
		acl = parseACL(ev.EventID(), ev.Content())
		f.acls.m[roomID] = acl
	}
	return !acl.allows(server)
}
