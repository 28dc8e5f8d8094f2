package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminCLIRooms drives `axon admin rooms delete|delete-status|block`
// and `reports list` against a running test server.
func TestAdminCLIRooms(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	_, err := inst.Server.UserAPI.CreateAccount(ctx, "ops", "opspass12", true)
	must(t, err)
	token := loginToken(t, inst.URL, "ops", "opspass12")
	bob := inst.Register("bob", "password1")
	created, err := bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Doomed", Preset: "public_chat"})
	must(t, err)
	room := created.RoomID.String()
	sent, err := bob.SendText(ctx, created.RoomID, "report me")
	must(t, err)
	if r, err := bob.MakeFullRequest(ctx, mautrix.FullRequest{Method: "POST", URL: bob.BuildClientURL("v3", "rooms", room, "report", sent.EventID.String()),
		RequestJSON: map[string]any{"reason": "spam"}}); err != nil {
		t.Fatalf("report: %v %s", err, r)
	}

	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := adminCmd(ctx, append([]string{"--url", inst.URL, "--token", token}, args...), &out); err != nil {
			t.Fatalf("axon admin %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	expect := func(out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Fatalf("output %q lacks %q", out, w)
			}
		}
	}

	expect(run("reports", "list"), sent.EventID.String(), bob.UserID.String(), "spam", "1 of 1 reports")
	expect(run("rooms", "block", room), room+" blocked")
	expect(run("rooms", "block", room, "--unblock"), room+" unblocked")
	expect(run("rooms", "delete", room, "--block"), ": complete", "kicked: "+bob.UserID.String())
	if _, err := inst.Server.RoomAPI.QueryRoomVersion(ctx, matrixid.RoomID(room)); err == nil {
		t.Fatal("the room still exists after rooms delete")
	}
	if blocked, _, err := inst.Server.RoomAPI.QueryRoomBlocked(ctx, matrixid.RoomID(room)); err != nil || !blocked {
		t.Fatalf("room blocked after delete --block: %v %v", blocked, err)
	}
	expect(run("rooms", "delete-status", room), ": complete")

	var out bytes.Buffer
	err = adminCmd(ctx, []string{"--url", inst.URL, "--token", bob.AccessToken, "rooms", "block", room}, &out)
	if err == nil || !strings.Contains(err.Error(), "M_FORBIDDEN") {
		t.Fatalf("non-admin token: %v", err)
	}
	if err := adminCmd(ctx, []string{"--url", inst.URL, "--token", token, "rooms", "delete"}, &out); err == nil || !strings.Contains(err.Error(), "--room") {
		t.Fatalf("missing room: %v", err)
	}
}
