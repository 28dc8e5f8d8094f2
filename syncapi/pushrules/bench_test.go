package pushrules

import (
	"fmt"
	"testing"
)

// benchEvent is a typical plain message in a group room.
var benchEvent = []byte(`{"type":"m.room.message","room_id":"!r:hs","sender":"@bob:hs","event_id":"$e","origin_server_ts":1,
	"content":{"msgtype":"m.text","body":"hello everyone, how is the weather today?"}}`)

// BenchmarkEvaluate is the per-recipient cost of one event under the
// default rules (the consumer pays it once per local room member).
func BenchmarkEvaluate(b *testing.B) {
	rs := Defaults("@alice:hs")
	c := &Context{UserID: "@alice:hs", DisplayName: "Alice", MemberCount: 50, SenderPowerLevel: 0}
	b.ReportAllocs()
	for b.Loop() {
		if r := Evaluate(rs, benchEvent, c); !r.Notify {
			b.Fatal("message did not notify")
		}
	}
}

// BenchmarkCompiledEvaluate is the same with the rules compiled once per
// user and the event parsed once per event, as the consumer does.
func BenchmarkCompiledEvaluate(b *testing.B) {
	rs := Compile(Defaults("@alice:hs"))
	ev := NewEvent(benchEvent)
	c := &Context{UserID: "@alice:hs", DisplayName: "Alice", MemberCount: 50, SenderPowerLevel: 0}
	b.ReportAllocs()
	for b.Loop() {
		if r := rs.Evaluate(ev, c); !r.Notify {
			b.Fatal("message did not notify")
		}
	}
}

// BenchmarkEvaluateRoom is one message evaluated for the 49 other
// members of a 50-member room, each with the default rules, as the
// syncapi consumer does per event (per recipient: divide by 49).
func BenchmarkEvaluateRoom(b *testing.B) {
	rules := make([]*Compiled, 49)
	ctxs := make([]*Context, 49)
	for i := range rules {
		u := fmt.Sprintf("@user%d:hs", i)
		rules[i] = Compile(Defaults(u))
		ctxs[i] = &Context{UserID: u, DisplayName: fmt.Sprintf("User %d", i), MemberCount: 50}
	}
	b.ReportAllocs()
	for b.Loop() {
		ev := NewEvent(benchEvent)
		for i, rs := range rules {
			if r := rs.Evaluate(ev, ctxs[i]); !r.Notify {
				b.Fatal("message did not notify")
			}
		}
	}
}
