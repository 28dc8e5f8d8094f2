package matrixrules

import (
	"slices"
	"strings"
	"testing"
)

// TestCompareSpaceChildren: the spec's own example of ordering children,
// plus invalid orders (too long, outside printable ASCII) counting as none
// and ties broken by timestamp, then room ID.
func TestCompareSpaceChildren(t *testing.T) {
	o := func(id, order string, ts int64) SpaceChildOrder {
		return SpaceChildOrder{RoomID: id, Order: order, HasOrder: order != "-", TS: ts}
	}
	children := []SpaceChildOrder{
		o("!b:example.org", " ", 1640341000000),
		o("!a:example.org", "aaaa", 1640141000000),
		o("!c:example.org", "first", 1640841000000),
		o("!e:example.org", "-", 1640641000000),
		o("!d:example.org", "-", 1640741000000),
		o("!f:example.org", strings.Repeat("a", 51), 1640000000000), // too long: no order
		o("!g:example.org", "\u00e9", 1640000000001),                // not ASCII: no order
		o("!i:example.org", "first", 1640841000000),                 // same order and ts: by room ID
		o("!h:example.org", "-", 1640741000000),                     // same ts as !d: by room ID
		o("!j:example.org", "", 1640999999999),                      // empty is a valid order, before " "
	}
	slices.SortStableFunc(children, CompareSpaceChildren)
	var got []string
	for _, c := range children {
		got = append(got, c.RoomID[1:2])
	}
	if want := "jbacifgedh"; strings.Join(got, "") != want {
		t.Fatalf("order %s, want %s", strings.Join(got, ""), want)
	}
}

func TestRoomPreviewable(t *testing.T) {
	in := func(ids ...string) func(string) bool {
		return func(id string) bool { return slices.Contains(ids, id) }
	}
	restricted := RoomPreview{JoinRule: "restricted", RoomVersion: "8", AllowedRoomIDs: []string{"!space:x"}}
	for name, c := range map[string]struct {
		p         RoomPreview
		inAllowed func(string) bool
		want      bool
	}{
		"public":                     {RoomPreview{JoinRule: "public", RoomVersion: "1"}, nil, true},
		"invite":                     {RoomPreview{JoinRule: "invite", RoomVersion: "10"}, nil, false},
		"world readable invite":      {RoomPreview{JoinRule: "invite", WorldReadable: true, RoomVersion: "10"}, nil, true},
		"knock v7":                   {RoomPreview{JoinRule: "knock", RoomVersion: "7"}, nil, true},
		"knock v6 (no such rule)":    {RoomPreview{JoinRule: "knock", RoomVersion: "6"}, nil, false},
		"knock_restricted v10":       {RoomPreview{JoinRule: "knock_restricted", RoomVersion: "10"}, nil, true},
		"knock_restricted v9":        {RoomPreview{JoinRule: "knock_restricted", RoomVersion: "9"}, nil, false},
		"restricted, in allowed":     {restricted, in("!space:x"), true},
		"restricted, not in allowed": {restricted, in("!other:x"), false},
		"restricted, nobody":         {restricted, nil, false},
		"restricted v7":              {RoomPreview{JoinRule: "restricted", RoomVersion: "7", AllowedRoomIDs: []string{"!space:x"}}, in("!space:x"), false},
		"remote without version":     {RoomPreview{JoinRule: "knock"}, nil, true},
	} {
		if got := c.p.Previewable(c.inAllowed); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}
