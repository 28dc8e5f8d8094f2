package matrixrules

import "testing"

func TestCheckTransition(t *testing.T) {
	all := []string{"", Join, Invite, Leave, Ban, Knock}
	allowed := map[Action][]string{
		ActionInvite: {"", Leave, Invite, Knock},
		ActionKick:   {Join, Invite, Knock},
		ActionBan:    all,
		ActionUnban:  {Ban},
		ActionLeave:  {Join, Invite, Knock, Leave},
	}
	for action, ok := range allowed {
		for _, cur := range all {
			want := false
			for _, m := range ok {
				want = want || m == cur
			}
			if msg := CheckTransition(action, cur); (msg == "") != want {
				t.Errorf("%s from %q: %q, want allowed=%v", action, cur, msg, want)
			}
		}
	}
	if msg := CheckTransition("dance", Join); msg == "" {
		t.Fatal("unknown action allowed")
	}
	if msg := CheckTransition(ActionUnban, Join); msg != `The user's membership is "join", so they cannot be unbanned` {
		t.Fatalf("message %q", msg)
	}
}

func TestResultingMembership(t *testing.T) {
	for a, want := range map[Action]string{ActionInvite: Invite, ActionKick: Leave, ActionBan: Ban, ActionUnban: Leave, ActionLeave: Leave} {
		if got := ResultingMembership(a); got != want {
			t.Errorf("%s sends %q, want %q", a, got, want)
		}
	}
}

func TestIsActiveAndRestricted(t *testing.T) {
	for m, want := range map[string]bool{Join: true, Invite: true, Knock: true, Leave: false, Ban: false, "": false} {
		if IsActive(m) != want {
			t.Errorf("IsActive(%q) != %v", m, want)
		}
	}
	cases := []struct {
		rule, cur string
		want      bool
	}{
		{"restricted", "", true}, {"knock_restricted", Leave, true}, {"restricted", Invite, false},
		{"restricted", Join, false}, {"public", "", false}, {"knock", "", false},
	}
	for _, c := range cases {
		if got := NeedsRestrictedAuthoriser(c.rule, c.cur); got != c.want {
			t.Errorf("%s from %q: %v", c.rule, c.cur, got)
		}
	}
}
