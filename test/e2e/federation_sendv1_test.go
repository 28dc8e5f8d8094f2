package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/matrix-org/gomatrix"
	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// The deprecated v1 send_join and send_leave still work for servers that
// call them, answering in the v1 [200, {...}] shape, and take only the
// membership they are named for (Complement TestCannotSendNonJoinViaSendJoinV1
// and ...LeaveV1).
func TestFederationSendJoinLeaveV1(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice := a.Register("alice", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	nameA, nameB := spec.ServerName(a.Cfg.ServerName), spec.ServerName(b.Cfg.ServerName)
	bob := "@bob:" + string(nameB)

	// build makes a membership event on A's template, signed by B.
	build := func(membership string) gomatrixserverlib.PDU {
		t.Helper()
		kind := membership
		if kind == spec.Invite || kind == "message" {
			kind = spec.Join // any template will do for events A must refuse
		}
		var tmpl struct {
			Event       gomatrixserverlib.ProtoEvent  `json:"event"`
			RoomVersion gomatrixserverlib.RoomVersion `json:"room_version"`
		}
		path := "/_matrix/federation/v1/make_" + kind + "/" + url.PathEscape(room.String()) + "/" + url.PathEscape(bob) + "?ver=10&ver=11&ver=12"
		if err := signedRequest(ctx, b, nameA, http.MethodGet, path, nil, &tmpl); err != nil {
			t.Fatalf("make_%s: %v", kind, err)
		}
		proto := tmpl.Event
		content := map[string]any{"membership": membership}
		if membership == "message" {
			proto.Type, proto.StateKey, content = "m.room.message", nil, map[string]any{"body": "not a join"}
		}
		proto.Content, _ = json.Marshal(content)
		ver := gomatrixserverlib.MustGetRoomVersion(tmpl.RoomVersion)
		ev, err := ver.NewEventBuilderFromProtoEvent(&proto).Build(time.Now(), nameB, gomatrixserverlib.KeyID(b.Cfg.KeyID), b.Cfg.SigningKey)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	send := func(endpoint string, ev gomatrixserverlib.PDU, out any) error {
		path := "/_matrix/federation/v1/" + endpoint + "/" + url.PathEscape(room.String()) + "/" + url.PathEscape(ev.EventID())
		return signedRequest(ctx, b, nameA, http.MethodPut, path, ev, out)
	}
	wantBadRequest := func(endpoint string, ev gomatrixserverlib.PDU, what string) {
		t.Helper()
		err := send(endpoint, ev, &json.RawMessage{})
		if herr, ok := err.(gomatrix.HTTPError); !ok || herr.Code != http.StatusBadRequest {
			t.Fatalf("%s via v1 %s: want 400, got %v", what, endpoint, err)
		}
	}
	wantBadRequest("send_join", build("message"), "a message")
	wantBadRequest("send_join", build(spec.Leave), "a leave")
	wantBadRequest("send_leave", build(spec.Join), "a join")

	var joined []json.RawMessage
	if err := send("send_join", build(spec.Join), &joined); err != nil {
		t.Fatalf("v1 send_join: %v", err)
	}
	var code int
	var body struct {
		State     []json.RawMessage `json:"state"`
		AuthChain []json.RawMessage `json:"auth_chain"`
	}
	if len(joined) != 2 || json.Unmarshal(joined[0], &code) != nil || code != 200 || json.Unmarshal(joined[1], &body) != nil || len(body.State) == 0 || len(body.AuthChain) == 0 {
		t.Fatalf("v1 send_join answer is not [200, {state, auth_chain}]: %s", joined)
	}
	var left []json.RawMessage
	if err := send("send_leave", build(spec.Leave), &left); err != nil {
		t.Fatalf("v1 send_leave: %v", err)
	}
	if len(left) != 2 || string(left[0]) != "200" {
		t.Fatalf("v1 send_leave answer is not [200, {}]: %s", left)
	}
}

// signedRequest makes an X-Matrix signed request from inst to dest.
func signedRequest(ctx context.Context, inst *testserver.Instance, dest spec.ServerName, method, path string, body, out any) error {
	origin := spec.ServerName(inst.Cfg.ServerName)
	req := fclient.NewFederationRequest(method, origin, dest, path)
	if body != nil {
		if err := req.SetContent(body); err != nil {
			return err
		}
	}
	if err := req.Sign(origin, gomatrixserverlib.KeyID(inst.Cfg.KeyID), inst.Cfg.SigningKey); err != nil {
		return err
	}
	httpReq, err := req.HTTPRequest()
	if err != nil {
		return err
	}
	return inst.Server.Fed.Client.DoRequestAndParseResponse(ctx, httpReq, out)
}
