package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/testutil"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/userapi/storage"
)

// open runs fn on a fresh userapi database on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, d *storage.DB)) {
	storagetest.ForEachBackend(t, "userapi", storage.Migrations, func(t *testing.T, db *istorage.DB) { fn(t, storage.New(db)) })
}

// must fails the test on a set-up error.
var must = testutil.Must

func TestAccountStorageAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.CreateAccount(ctx, storage.Account{Localpart: "alice", PasswordHash: "h1", CreatedTS: 5, IsAdmin: true}, "alice"))
		if err := d.CreateAccount(ctx, storage.Account{Localpart: "alice", CreatedTS: 6}, ""); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("duplicate: got %v, want ErrExists", err)
		}
		acc, err := d.Account(ctx, "alice")
		must(t, err)
		if acc.PasswordHash != "h1" || acc.CreatedTS != 5 || !acc.IsAdmin || acc.IsGuest || acc.Deactivated {
			t.Fatalf("account: %+v", acc)
		}
		if _, err := d.Account(ctx, "bob"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("missing: got %v", err)
		}
		fields, err := d.ProfileFields(ctx, "alice")
		must(t, err)
		if string(fields["displayname"]) != `"alice"` {
			t.Fatalf("initial display name: %s", fields["displayname"])
		}
		must(t, d.SetPasswordHash(ctx, "alice", "h2", false, "", nil))
		acc, err = d.Account(ctx, "alice")
		must(t, err)
		if acc.PasswordHash != "h2" {
			t.Fatalf("password hash not changed")
		}
		if err := d.SetPasswordHash(ctx, "nobody", "h", false, "", nil); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("password for missing: %v", err)
		}

		must(t, d.CreateSession(ctx, session("alice", "DEV1", "tok1", "")))
		must(t, d.Deactivate(ctx, "alice", nil, nil))
		acc, err = d.Account(ctx, "alice")
		must(t, err)
		if !acc.Deactivated || acc.PasswordHash != "" {
			t.Fatalf("after deactivate: %+v", acc)
		}
		if _, err := d.LookupAccessToken(ctx, "tok1"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("token survived deactivation: %v", err)
		}
		if devs, err := d.Devices(ctx, "alice"); err != nil || len(devs) != 0 {
			t.Fatalf("devices survived deactivation: %+v", devs)
		}
		if fields, err := d.ProfileFields(ctx, "alice"); err != nil || len(fields) != 0 {
			t.Fatalf("profile survived deactivation: %v", fields)
		}
		if err := d.CreateAccount(ctx, storage.Account{Localpart: "alice", CreatedTS: 7}, ""); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("deactivated name reusable: %v", err)
		}
	})
}

func session(local, dev, accessHash, refreshHash string) storage.NewSession {
	return storage.NewSession{Localpart: local, DeviceID: dev, DisplayName: "phone", IP: "10.0.0.1",
		UserAgent: "test", AccessHash: accessHash, RefreshHash: refreshHash, Now: 1000}
}

func TestAccountStorageDevicesAndTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.CreateAccount(ctx, storage.Account{Localpart: "bob", CreatedTS: 1}, ""))
		must(t, d.CreateSession(ctx, session("bob", "A", "tokA", "")))
		must(t, d.CreateSession(ctx, session("bob", "B", "tokB", "")))
		must(t, d.CreateSession(ctx, session("bob", "C", "tokC", "")))

		info, err := d.LookupAccessToken(ctx, "tokA")
		must(t, err)
		if info.Localpart != "bob" || info.DeviceID != "A" || info.DisplayName != "phone" || info.ExpiresTS != 0 {
			t.Fatalf("token info: %+v", info)
		}
		// Logging in again on a device keeps it and revokes its old token.
		s := session("bob", "A", "tokA2", "")
		s.DisplayName = "ignored"
		must(t, d.CreateSession(ctx, s))
		if _, err := d.LookupAccessToken(ctx, "tokA"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("old token of reused device: %v", err)
		}
		dev, err := d.Device(ctx, "bob", "A")
		must(t, err)
		if dev.DisplayName != "phone" || dev.LastSeenIP != "10.0.0.1" {
			t.Fatalf("reused device: %+v", dev)
		}

		must(t, d.SetDeviceDisplayName(ctx, "bob", "B", "laptop", nil))
		if err := d.SetDeviceDisplayName(ctx, "bob", "Z", "x", nil); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("rename missing device: %v", err)
		}
		must(t, d.UpdateLastSeen(ctx, []storage.LastSeen{{Localpart: "bob", DeviceID: "B", TS: 99, IP: "1.2.3.4", UserAgent: "ua"}}))
		dev, err = d.Device(ctx, "bob", "B")
		must(t, err)
		if dev.DisplayName != "laptop" || dev.LastSeenTS != 99 || dev.LastSeenIP != "1.2.3.4" || dev.LastSeenUserAgent != "ua" {
			t.Fatalf("device B: %+v", dev)
		}

		// Each deletion reports the devices it really deleted.
		var deleted []string
		record := func(_ *istorage.Tx, ids []string) error { deleted = ids; return nil }
		must(t, d.DeleteDevices(ctx, "bob", []string{"B", "nonexistent"}, record))
		if fmt.Sprint(deleted) != "[B]" {
			t.Fatalf("reported deleted %v", deleted)
		}
		if _, err := d.LookupAccessToken(ctx, "tokB"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("deleted device's token: %v", err)
		}
		devs, err := d.Devices(ctx, "bob")
		must(t, err)
		if len(devs) != 2 {
			t.Fatalf("devices: %+v", devs)
		}
		must(t, d.DeleteDevicesExcept(ctx, "bob", "C", record))
		if len(deleted) != 1 || deleted[0] == "C" {
			t.Fatalf("delete except C reported %v", deleted)
		}
		devs, err = d.Devices(ctx, "bob")
		must(t, err)
		if len(devs) != 1 || devs[0].DeviceID != "C" {
			t.Fatalf("after delete except C: %+v", devs)
		}
		if _, err := d.LookupAccessToken(ctx, "tokC"); err != nil {
			t.Fatalf("kept device's token: %v", err)
		}
		must(t, d.SetPasswordHash(ctx, "bob", "h", true, "", record))
		if fmt.Sprint(deleted) != "[C]" {
			t.Fatalf("password change reported %v", deleted)
		}
		if _, err := d.LookupAccessToken(ctx, "tokC"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("password change with logout kept a token: %v", err)
		}
	})
}

func TestAccountStorageRefreshTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.CreateAccount(ctx, storage.Account{Localpart: "carol", CreatedTS: 1}, ""))
		s := session("carol", "D", "acc0", "ref0")
		s.ExpiresTS = 5000
		must(t, d.CreateSession(ctx, s))
		info, err := d.LookupAccessToken(ctx, "acc0")
		must(t, err)
		if info.ExpiresTS != 5000 || info.RefreshID == 0 || info.PrevRefreshID != 0 {
			t.Fatalf("token info: %+v", info)
		}

		local, dev, err := d.Refresh(ctx, "ref0", "acc1", 9000, "ref1", 2000)
		must(t, err)
		if local != "carol" || dev != "D" {
			t.Fatalf("refresh owner: %s %s", local, dev)
		}
		if _, err := d.LookupAccessToken(ctx, "acc0"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("old access token after refresh: %v", err)
		}
		// The response was lost: the client refreshes with ref0 again. The
		// unused acc1/ref1 are revoked.
		_, _, err = d.Refresh(ctx, "ref0", "acc2", 9000, "ref2", 3000)
		must(t, err)
		if _, err := d.LookupAccessToken(ctx, "acc1"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("unused access token: %v", err)
		}
		if _, _, err := d.Refresh(ctx, "ref1", "x", 0, "y", 0); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("unused refresh token: %v", err)
		}
		// First use of acc2 spends ref0.
		info, err = d.LookupAccessToken(ctx, "acc2")
		must(t, err)
		if info.PrevRefreshID == 0 {
			t.Fatalf("acc2 has no previous refresh token: %+v", info)
		}
		must(t, d.RevokePrevRefresh(ctx, info.RefreshID))
		if _, _, err := d.Refresh(ctx, "ref0", "x", 0, "y", 0); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("spent refresh token: %v", err)
		}
		info, err = d.LookupAccessToken(ctx, "acc2")
		must(t, err)
		if info.PrevRefreshID != 0 {
			t.Fatalf("prev not cleared: %+v", info)
		}
		// Using ref2 directly spends it too and keeps the chain going.
		_, _, err = d.Refresh(ctx, "ref2", "acc3", 0, "ref3", 4000)
		must(t, err)
		must(t, d.DeleteDevices(ctx, "carol", []string{"D"}, nil))
		if _, _, err := d.Refresh(ctx, "ref3", "x", 0, "y", 0); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("refresh token of deleted device: %v", err)
		}
	})
}

func TestAccountStorageProfileFields(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.SetProfileField(ctx, "dave", "displayname", json.RawMessage(`"Dave"`), 100))
		must(t, d.SetProfileField(ctx, "dave", "avatar_url", json.RawMessage(`"mxc://x/y"`), 100))
		must(t, d.SetProfileField(ctx, "dave", "displayname", json.RawMessage(`"Dave 2"`), 100))
		if err := d.SetProfileField(ctx, "dave", "org.example.big", json.RawMessage(`"`+strings.Repeat("x", 100)+`"`), 100); !errors.Is(err, storage.ErrTooLarge) {
			t.Fatalf("too large: %v", err)
		}
		fields, err := d.ProfileFields(ctx, "dave")
		must(t, err)
		if len(fields) != 2 || string(fields["displayname"]) != `"Dave 2"` || string(fields["avatar_url"]) != `"mxc://x/y"` {
			t.Fatalf("fields: %v", fields)
		}
		must(t, d.SetProfileField(ctx, "dave", "avatar_url", nil, 100))
		fields, err = d.ProfileFields(ctx, "dave")
		must(t, err)
		if _, ok := fields["avatar_url"]; ok || len(fields) != 1 {
			t.Fatalf("after delete: %v", fields)
		}
	})
}

func TestAccountStorageAccountData(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		got, err := d.AccountData(ctx, "erin", "", "m.direct")
		must(t, err)
		if got != nil {
			t.Fatalf("unset: %s", got)
		}
		must(t, setAccountData(d, "erin", "", "m.direct", json.RawMessage(`{"a":1}`)))
		must(t, setAccountData(d, "erin", "", "m.direct", json.RawMessage(`{"a":2}`)))
		must(t, setAccountData(d, "erin", "!r:x", "m.tag", json.RawMessage(`{"tags":{}}`)))
		must(t, setAccountData(d, "frank", "", "m.direct", json.RawMessage(`{"b":1}`)))
		got, err = d.AccountData(ctx, "erin", "", "m.direct")
		must(t, err)
		if string(got) != `{"a":2}` {
			t.Fatalf("global: %s", got)
		}
		got, err = d.AccountData(ctx, "erin", "!r:x", "m.tag")
		must(t, err)
		if string(got) != `{"tags":{}}` {
			t.Fatalf("room: %s", got)
		}
		global, rooms, err := d.AllAccountData(ctx, "erin")
		must(t, err)
		if len(global) != 1 || len(rooms) != 1 || string(rooms["!r:x"]["m.tag"]) != `{"tags":{}}` {
			t.Fatalf("all: %v %v", global, rooms)
		}
	})
}

// setAccountData stores one item in its own transaction.
func setAccountData(d *storage.DB, localpart, roomID, dataType string, content json.RawMessage) error {
	ctx := context.Background()
	return d.WriteTx(ctx, func(tx *istorage.Tx) error { return d.SetAccountData(ctx, tx, localpart, roomID, dataType, content) })
}
