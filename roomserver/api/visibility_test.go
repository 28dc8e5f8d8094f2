package api

import "testing"

func TestVisibilityOwnMembership(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    VisibilityCheck
		want bool
	}{
		{"knock withdrawn, shared", VisibilityCheck{Visibility: VisibilityShared, MembershipBefore: "knock", OwnMembershipAfter: "leave"}, true},
		{"invite rejected, joined", VisibilityCheck{Visibility: VisibilityJoined, MembershipBefore: "invite", OwnMembershipAfter: "leave"}, true},
		{"banned while knocking", VisibilityCheck{Visibility: VisibilityJoined, MembershipBefore: "knock", OwnMembershipAfter: "ban"}, true},
		{"own knock, joined", VisibilityCheck{Visibility: VisibilityJoined, OwnMembershipAfter: "knock"}, false},
		{"own join", VisibilityCheck{Visibility: VisibilityJoined, OwnMembershipAfter: "join"}, true},
		{"someone else's leave while knocking", VisibilityCheck{Visibility: VisibilityShared, MembershipBefore: "knock"}, false},
	} {
		if got := tc.c.Visible(); got != tc.want {
			t.Errorf("%s: Visible() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
