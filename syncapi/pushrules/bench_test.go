package pushrules

import "testing"

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
