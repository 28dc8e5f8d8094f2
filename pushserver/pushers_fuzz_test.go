package pushserver

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/axon-hs/axon/pushserver/storage"
)

// FuzzSetPusherBody: any JSON body either is refused or yields a pusher
// whose gateway URL is an http(s) URL with the notify path and whose data
// is a JSON object (what delivery relies on); nothing panics.
func FuzzSetPusherBody(f *testing.F) {
	for _, s := range []string{
		`{"kind":"http","app_id":"a","pushkey":"k","app_display_name":"A","device_display_name":"D","lang":"en","data":{"url":"https://gw/_matrix/push/v1/notify"}}`,
		`{"kind":"http","data":{"url":"http://x/_matrix/push/v1/notify","format":"event_id_only"},"app_display_name":"","device_display_name":"","lang":""}`,
		`{"kind":null}`, `{"kind":"email"}`, `{"data":[1]}`, `{"data":{"url":5}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body setPusherRequest
		if json.Unmarshal(data, &body) != nil || body.Kind == nil {
			return
		}
		p, errResp := body.pusher(storage.Key{UserID: "@u:x", AppID: "a", PushKey: "k"}, "DEV")
		if errResp != nil {
			return
		}
		u, err := url.Parse(gatewayURL(&p))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != gatewayPath {
			t.Fatalf("accepted gateway URL %q", gatewayURL(&p))
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(p.Data, &obj) != nil {
			t.Fatalf("accepted data %s", p.Data)
		}
	})
}
