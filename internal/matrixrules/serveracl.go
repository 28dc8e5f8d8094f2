package matrixrules

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// ServerACL is a parsed m.room.server_acl content: which servers may
// take part in the room.
type ServerACL struct {
	allowIPLiterals bool
	allow, deny     []*regexp.Regexp
}

// ParseServerACL reads an ACL's content; entries that are not strings
// are ignored and allow_ip_literals defaults to true, as the spec says.
func ParseServerACL(content []byte) *ServerACL {
	var c struct {
		Allow           []any `json:"allow"`
		Deny            []any `json:"deny"`
		AllowIPLiterals any   `json:"allow_ip_literals"`
	}
	acl := &ServerACL{allowIPLiterals: true}
	if json.Unmarshal(content, &c) != nil {
		return acl
	}
	if b, ok := c.AllowIPLiterals.(bool); ok {
		acl.allowIPLiterals = b
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

// Allows applies the spec's order: IP literals, deny, then allow (an
// empty allow list allows nothing). The port is not part of the match.
func (a *ServerACL) Allows(server spec.ServerName) bool {
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

// CheckServerACLKeepsSelf refuses an ACL that would shut the sending
// server out of its own room (it could then neither federate nor undo
// it over federation), as other servers do. "" or the client's message.
func CheckServerACLKeepsSelf(content []byte, self spec.ServerName) string {
	if !ParseServerACL(content).Allows(self) {
		return "the server ACL would deny this server (" + string(self) + ")"
	}
	return ""
}

// globRegexp compiles a server-name glob (* and ?), case-insensitive.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?i)^")
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
