package sender

import (
	"testing"

	"github.com/matrix-org/gomatrixserverlib/spec"

	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// The event fields the consumer reads: the sender's server, and the
// target's server of a leave or ban; anything unreadable is "".
func TestEventFieldServers(t *testing.T) {
	cases := []struct {
		event          string
		sender, target spec.ServerName
	}{
		{`{"type":"m.room.message","sender":"@a:b.org","content":{"body":"x"}}`, "b.org", ""},
		{`{"type":"m.room.member","sender":"@a:b.org","state_key":"@c:d.org","content":{"membership":"leave"}}`, "b.org", "d.org"},
		{`{"type":"m.room.member","sender":"@a:b.org","state_key":"@c:d.org","content":{"membership":"ban"}}`, "b.org", "d.org"},
		{`{"type":"m.room.member","sender":"@a:b.org","state_key":"@c:d.org","content":{"membership":"join"}}`, "b.org", ""},
		{`{"type":"m.room.topic","sender":"@a:b.org","state_key":"@c:d.org","content":{"membership":"leave"}}`, "b.org", ""},
		{`{"type":"m.room.member","sender":"@a\u003ab.org","state_key":5,"content":{"membership":"leave"}}`, "b.org", ""},
		{`{"sender":5}`, "", ""},
		{`{"sender":"no-colon"}`, "", ""},
		{`not json`, "", ""},
	}
	for _, c := range cases {
		ev := &rsapi.OutputNewRoomEvent{Event: []byte(c.event)}
		if got := senderServer(ev); got != c.sender {
			t.Errorf("%s: sender's server %q, want %q", c.event, got, c.sender)
		}
		if got := memberTargetServer(ev); got != c.target {
			t.Errorf("%s: target's server %q, want %q", c.event, got, c.target)
		}
	}
}
