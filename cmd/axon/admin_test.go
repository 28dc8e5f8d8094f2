package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminCLI drives `axon admin` against a running test server: users,
// rooms, tokens and notices, and a refusal for a non-admin token.
func TestAdminCLI(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.ServerNotices.Enabled = true }})
	ctx := context.Background()
	_, err := inst.Server.UserAPI.CreateAccount(ctx, "ops", "opspass12", true)
	must(t, err)
	token := loginToken(t, inst.URL, "ops", "opspass12")
	bob := inst.Register("bob", "password1")
	_, err = bob.CreateRoom(ctx, &mautrix.ReqCreateRoom{Name: "Lobby"})
	must(t, err)

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

	expect(run("server-version"), "Axon")
	expect(run("users", "create", "--user", "carol", "--password", "carolpass1", "--displayname", "Carol"), "@carol:"+inst.Cfg.ServerName+" saved")
	loginToken(t, inst.URL, "carol", "carolpass1")
	expect(run("users", "list"), "@carol:", "Carol", "@bob:", "3 of 3 users")
	expect(run("users", "reset-password", "--user", "carol", "--password", "carolpass2"), "reset")
	loginToken(t, inst.URL, "carol", "carolpass2")
	expect(run("users", "make-admin", "--user", "carol"), "admin: true")
	if acc, err := inst.Server.UserAPI.QueryAccount(ctx, matrixid.UserID("@carol:"+inst.Cfg.ServerName)); err != nil || !acc.IsAdmin {
		t.Fatalf("carol after make-admin: %+v %v", acc, err)
	}
	expect(run("rooms", "list"), "Lobby", "1 of 1 rooms")
	tok := strings.TrimSpace(run("tokens", "create", "--uses", "2", "--expires", "24h"))
	if len(tok) != 16 {
		t.Fatalf("generated token %q", tok)
	}
	expect(run("tokens", "list"), tok, "2")
	expect(run("tokens", "delete", "--token", tok), "deleted")
	if out := run("tokens", "list"); strings.Contains(out, tok) {
		t.Fatalf("deleted token still listed: %s", out)
	}
	expect(run("notice", "--user", "bob", "--message", "hello from ops"), "sent to @bob:")
	expect(run("users", "deactivate", "--user", "carol"), "deactivated")
	if acc, err := inst.Server.UserAPI.QueryAccount(ctx, matrixid.UserID("@carol:"+inst.Cfg.ServerName)); err != nil || !acc.Deactivated {
		t.Fatalf("carol after deactivate: %+v %v", acc, err)
	}

	// Errors: a non-admin token, a missing flag, an unknown command.
	var out bytes.Buffer
	err = adminCmd(ctx, []string{"--url", inst.URL, "--token", bob.AccessToken, "users", "list"}, &out)
	if err == nil || !strings.Contains(err.Error(), "M_FORBIDDEN") {
		t.Fatalf("non-admin token: %v", err)
	}
	if err := adminCmd(ctx, []string{"--url", inst.URL, "--token", token, "users", "deactivate"}, &out); err == nil || !strings.Contains(err.Error(), "--user") {
		t.Fatalf("missing --user: %v", err)
	}
	if err := adminCmd(ctx, []string{"--url", inst.URL, "--token", token, "frobnicate"}, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}
