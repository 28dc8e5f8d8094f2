// Package types holds the syncapi's value types: stream tokens, filters
// and the stored/served event shape. It has no I/O.
package types

import (
	"fmt"
	"strconv"
	"strings"
)

// StreamPosition is a position in one of the syncapi's streams.
type StreamPosition int64

// StreamToken is a /sync `since`/`next_batch` token: one position per
// stream, so each stream resumes on its own.
type StreamToken struct {
	PDU         StreamPosition // room events (syncapi_events.pos)
	AccountData StreamPosition
	Receipt     StreamPosition
	Typing      StreamPosition
	ToDevice    StreamPosition
	Presence    StreamPosition
	DeviceList  StreamPosition
}

// String encodes the token as "s<pdu>_<ad>_<receipt>_<typing>_<todevice>_<presence>_<devicelist>".
func (t StreamToken) String() string {
	return fmt.Sprintf("s%d_%d_%d_%d_%d_%d_%d", t.PDU, t.AccountData, t.Receipt, t.Typing, t.ToDevice, t.Presence, t.DeviceList)
}

func (t *StreamToken) fields() []*StreamPosition {
	return []*StreamPosition{&t.PDU, &t.AccountData, &t.Receipt, &t.Typing, &t.ToDevice, &t.Presence, &t.DeviceList}
}

// ParseStreamToken decodes a token written by String. Tokens with fewer
// fields (from an older server) leave the rest at 0, so those streams
// restart from the beginning rather than failing.
func ParseStreamToken(s string) (StreamToken, error) {
	var t StreamToken
	if len(s) < 2 || s[0] != 's' {
		return t, fmt.Errorf("invalid stream token %q", s)
	}
	parts := strings.Split(s[1:], "_")
	ptrs := t.fields()
	if len(parts) > len(ptrs) {
		return t, fmt.Errorf("invalid stream token %q: too many fields", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return t, fmt.Errorf("invalid stream token %q", s)
		}
		*ptrs[i] = StreamPosition(v)
	}
	return t, nil
}

// IsAfter reports whether any stream of t is ahead of o.
func (t StreamToken) IsAfter(o StreamToken) bool {
	a, b := t.fields(), o.fields()
	for i := range a {
		if *a[i] > *b[i] {
			return true
		}
	}
	return false
}

// Max returns the per-stream maximum of t and o.
func (t StreamToken) Max(o StreamToken) StreamToken {
	out := t
	a, b := out.fields(), o.fields()
	for i := range a {
		if *b[i] > *a[i] {
			*a[i] = *b[i]
		}
	}
	return out
}

// TopologyToken is a /messages pagination token: a point between room
// events. Events with pos <= Pos are "before" it, pos > Pos "after".
type TopologyToken struct {
	Pos StreamPosition
}

// String encodes as "t<pos>".
func (t TopologyToken) String() string { return "t" + strconv.FormatInt(int64(t.Pos), 10) }

// ParsePaginationToken accepts a /messages token ("t<pos>") or a /sync
// token (its room-event position is used), as the spec allows both.
func ParsePaginationToken(s string) (TopologyToken, error) {
	if strings.HasPrefix(s, "t") {
		v, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil || v < int64(MinBackfillPos)-1 { // negative: backfilled history
			return TopologyToken{}, fmt.Errorf("invalid pagination token %q", s)
		}
		return TopologyToken{Pos: StreamPosition(v)}, nil
	}
	st, err := ParseStreamToken(s)
	if err != nil {
		return TopologyToken{}, err
	}
	return TopologyToken{Pos: st.PDU}, nil
}
