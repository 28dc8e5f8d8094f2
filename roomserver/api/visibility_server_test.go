package api

import "testing"

func TestServerHistoryVisible(t *testing.T) {
	for _, c := range []struct {
		visibility  string
		memberships []string
		want        bool
	}{
		{VisibilityWorldReadable, nil, true},
		{VisibilityShared, nil, true},
		{"", nil, true}, // unset is shared
		{VisibilityInvited, nil, false},
		{VisibilityInvited, []string{"leave", "invite"}, true},
		{VisibilityInvited, []string{"join"}, true},
		{VisibilityJoined, []string{"invite"}, false},
		{VisibilityJoined, []string{"leave", "join"}, true},
		{VisibilityJoined, []string{"ban"}, false},
	} {
		if got := ServerHistoryVisible(c.visibility, c.memberships); got != c.want {
			t.Errorf("%q with %v: %v, want %v", c.visibility, c.memberships, got, c.want)
		}
	}
}
