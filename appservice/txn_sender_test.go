package appservice

import (
	"encoding/json"
	"testing"

	"github.com/axon-hs/axon/appservice/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

func typingEv(room, user string, typing bool) syncapi.OutputTyping {
	return syncapi.OutputTyping{RoomID: room, UserID: user, Typing: typing, TimeoutMS: 30000}
}

func TestBuildTransaction(t *testing.T) {
	body := buildTransaction([]storage.Item{
		{Kind: storage.KindEvent, Body: []byte(`{"e":1}`)},
		{Kind: storage.KindEphemeral, Body: []byte(`{"t":1}`)},
		{Kind: storage.KindToDevice, Body: []byte(`{"d":1}`)},
		{Kind: storage.KindEvent, Body: []byte(`{"e":2}`)},
	})
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"events":[{"e":1},{"e":2}],"ephemeral":[{"t":1}],"de.sorunome.msc2409.ephemeral":[{"t":1}],"to_device":[{"d":1}],"de.sorunome.msc2409.to_device":[{"d":1}]}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	empty, _ := json.Marshal(buildTransaction(nil))
	if string(empty) != `{"events":[]}` {
		t.Fatalf("an empty transaction still has events: %s", empty)
	}
}

func TestBuildTransactionDeviceLists(t *testing.T) {
	body := buildTransaction([]storage.Item{
		{Kind: storage.KindDeviceList, Body: []byte(`"@a:hs"`)},
		{Kind: storage.KindDeviceList, Body: []byte(`"@a:hs"`)},
		{Kind: storage.KindDeviceListLeft, Body: []byte(`"@b:hs"`)},
	})
	data, _ := json.Marshal(body.DeviceLists)
	if string(data) != `{"changed":["@a:hs"],"left":["@b:hs"]}` {
		t.Fatalf("device lists %s", data)
	}
}
