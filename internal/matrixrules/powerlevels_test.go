package matrixrules

import "testing"

func TestUserLevel(t *testing.T) {
	const alice, bob, carol, dave = "@alice:hs", "@bob:hs", "@carol:hs", "@dave:hs"
	pl := []byte(`{"users":{"@bob:hs":50,"@alice:hs":100},"users_default":5}`)
	v12create := []byte(`{"room_version":"12","additional_creators":["@carol:hs"]}`)
	cases := []struct {
		name string
		room Room
		user string
		want int64
	}{
		{"v10 listed", Room{Version: "10", CreateSender: alice, PowerLevels: pl}, bob, 50},
		{"v10 default", Room{Version: "10", CreateSender: alice, PowerLevels: pl}, dave, 5},
		{"v10 creator from the power levels", Room{Version: "10", CreateSender: alice, PowerLevels: pl}, alice, 100},
		{"v10 no power levels: creator 100", Room{Version: "10", CreateSender: alice}, alice, 100},
		{"v10 no power levels: others 0", Room{Version: "10", CreateSender: alice}, bob, 0},
		{"v12 creator is infinite", Room{Version: "12", CreateSender: alice, CreateContent: v12create, PowerLevels: pl}, alice, CreatorLevel},
		{"v12 additional creator is infinite", Room{Version: "12", CreateSender: alice, CreateContent: v12create, PowerLevels: pl}, carol, CreatorLevel},
		{"v12 others from the power levels", Room{Version: "12", CreateSender: alice, CreateContent: v12create, PowerLevels: pl}, bob, 50},
		{"v12 no power levels: creator infinite", Room{Version: "12", CreateSender: alice, CreateContent: v12create}, alice, CreatorLevel},
		{"v11 additional_creators mean nothing", Room{Version: "11", CreateSender: alice, CreateContent: v12create, PowerLevels: pl}, carol, 5},
		{"v1 string levels", Room{Version: "1", CreateSender: alice, PowerLevels: []byte(`{"users":{"@bob:hs":"42"}}`)}, bob, 42},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPowerLevels(c.room)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.UserLevel(c.user); got != c.want {
				t.Fatalf("level %d, want %d", got, c.want)
			}
		})
	}
}

func TestEventAndNotificationLevels(t *testing.T) {
	pl := []byte(`{"events":{"m.room.name":75,"m.reaction":10},"state_default":60,"events_default":1,"notifications":{"room":20}}`)
	cases := []struct {
		name        string
		pl          []byte
		stateType   string
		wantState   int64
		msgType     string
		wantMessage int64
		wantRoom    int64
	}{
		{"no power levels: spec defaults", nil, "m.room.topic", 50, "m.room.message", 0, 50},
		{"listed state", pl, "m.room.name", 75, "m.reaction", 10, 20},
		{"default state and message", pl, "m.room.topic", 60, "m.room.message", 1, 20},
		{"notifications without room", []byte(`{"notifications":{"x":1}}`), "m.room.topic", 50, "m.room.message", 0, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPowerLevels(Room{Version: "10", CreateSender: "@a:hs", PowerLevels: c.pl})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.StateLevel(c.stateType); got != c.wantState {
				t.Errorf("state level of %s = %d, want %d", c.stateType, got, c.wantState)
			}
			if got := p.MessageLevel(c.msgType); got != c.wantMessage {
				t.Errorf("message level of %s = %d, want %d", c.msgType, got, c.wantMessage)
			}
			if got := p.NotificationLevels()["room"]; got != c.wantRoom {
				t.Errorf("@room level = %d, want %d", got, c.wantRoom)
			}
		})
	}
}

func TestBadPowerLevels(t *testing.T) {
	if _, err := NewPowerLevels(Room{Version: "10", PowerLevels: []byte(`{"users":{"@a:hs":"50"}}`)}); err == nil {
		t.Fatal("v10 accepted a string level")
	}
}

func TestVersionOfCreate(t *testing.T) {
	for content, want := range map[string]string{`{}`: "1", `{"room_version":"12"}`: "12", `{"room_version":12}`: "1"} {
		if got := VersionOfCreate([]byte(content)); got != want {
			t.Errorf("%s: %q, want %q", content, got, want)
		}
	}
}

func TestCreators(t *testing.T) {
	got := Creators("@a:hs", []byte(`{"additional_creators":["@b:hs","@a:hs",7]}`))
	if len(got) != 2 || got[0] != "@a:hs" || got[1] != "@b:hs" {
		t.Fatalf("creators %v", got)
	}
}
