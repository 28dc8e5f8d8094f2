package matrixrules

import "strings"

// SpaceChildOrder is what orders an m.space.child link among its
// siblings: its content's order (HasOrder when it is a string), its
// event's origin_server_ts and the child room ID.
type SpaceChildOrder struct {
	RoomID   string
	Order    string
	HasOrder bool
	TS       int64
}

// ValidSpaceChildOrder: an order is at most 50 characters, each printable
// ASCII (U+0020 to U+007E); any other order is ignored.
func ValidSpaceChildOrder(order string) bool {
	if len(order) > 50 {
		return false
	}
	for i := 0; i < len(order); i++ {
		if order[i] < 0x20 || order[i] > 0x7e {
			return false
		}
	}
	return true
}

// CompareSpaceChildren orders children as the spec's "Ordering of
// children within a space": children with a valid order first, by
// order; then by timestamp; then by room ID.
func CompareSpaceChildren(a, b SpaceChildOrder) int {
	va, vb := a.HasOrder && ValidSpaceChildOrder(a.Order), b.HasOrder && ValidSpaceChildOrder(b.Order)
	switch {
	case va && !vb:
		return -1
	case vb && !va:
		return 1
	case va && vb:
		if c := strings.Compare(a.Order, b.Order); c != 0 {
			return c
		}
	}
	switch {
	case a.TS < b.TS:
		return -1
	case a.TS > b.TS:
		return 1
	}
	return strings.Compare(a.RoomID, b.RoomID)
}
