package e2e

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminEventReports: GET /v1/event_reports lists users' reports of
// events (not of rooms or users) with the room's name and the event's
// sender, filtered by room and reporter and paged with next_token;
// GET /v1/event_reports/{id} adds the event's JSON; DELETE removes one.
// Non-admins get 403.
func TestAdminEventReports(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	room := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat", Name: "Reported"})
	other := roomsCreate(t, bob, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	ev1 := syncSend(t, bob, room, "spam one")
	ev2 := syncSend(t, bob, room, "spam two")
	ev3 := syncSend(t, bob, other, "spam three")
	report := func(c *mautrix.Client, path string, body map[string]any) {
		t.Helper()
		if r := roomsDo(t, c, "POST", "/_matrix/client/v3"+path, body); r.Status != 200 {
			t.Fatalf("report %s: %d %v", path, r.Status, r.Body)
		}
	}
	report(alice, "/rooms/"+room.String()+"/report/"+ev1.String(), map[string]any{"reason": "first", "score": -100})
	report(alice, "/rooms/"+room.String()+"/report/"+ev2.String(), map[string]any{"reason": "second"})
	report(bob, "/rooms/"+other.String()+"/report/"+ev3.String(), map[string]any{"reason": "third"})
	report(alice, "/rooms/"+room.String()+"/report", map[string]any{"reason": "a room report"})
	report(alice, "/users/"+bob.UserID.String()+"/report", map[string]any{"reason": "a user report"})

	if got := adminDo(t, alice, "GET", "/v1/event_reports", nil); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
		t.Fatalf("list as non-admin: %d %v", got.Status, got.Body)
	}
	list := adminDo(t, admin, "GET", "/v1/event_reports", nil)
	reps := adminList(list, "event_reports")
	if list.Body["total"] != float64(3) || len(reps) != 3 || list.Body["next_token"] != nil {
		t.Fatalf("list: %v", list.Body)
	}
	newest := reps[0].(map[string]any)
	if newest["event_id"] != ev3.String() || newest["user_id"] != bob.UserID.String() || newest["sender"] != bob.UserID.String() || newest["reason"] != "third" {
		t.Errorf("newest report: %v", newest)
	}
	oldest := reps[2].(map[string]any)
	if oldest["name"] != "Reported" || oldest["score"] != float64(-100) || oldest["room_id"] != room.String() || oldest["received_ts"] == nil {
		t.Errorf("oldest report: %v", oldest)
	}

	page := adminDo(t, admin, "GET", "/v1/event_reports?limit=1&dir=f", nil)
	if r := adminList(page, "event_reports"); len(r) != 1 || r[0].(map[string]any)["event_id"] != ev1.String() || page.Body["next_token"] != float64(1) {
		t.Errorf("first page forward: %v", page.Body)
	}
	filtered := adminDo(t, admin, "GET", "/v1/event_reports?room_id="+room.String()+"&user_id="+alice.UserID.String(), nil)
	if filtered.Body["total"] != float64(2) {
		t.Errorf("by room and reporter: %v", filtered.Body)
	}
	if bad := adminDo(t, admin, "GET", "/v1/event_reports?dir=x", nil); bad.Status != 400 {
		t.Errorf("dir=x: %d", bad.Status)
	}

	id := int64(oldest["id"].(float64))
	one := adminDo(t, admin, "GET", fmt.Sprintf("/v1/event_reports/%d", id), nil)
	ej, _ := one.Body["event_json"].(map[string]any)
	if one.Status != 200 || ej == nil || ej["type"] != "m.room.message" || ej["content"].(map[string]any)["body"] != "spam one" {
		t.Fatalf("one report: %d %v", one.Status, one.Body)
	}
	if got := adminDo(t, alice, "DELETE", fmt.Sprintf("/v1/event_reports/%d", id), nil); got.Status != 403 {
		t.Fatalf("delete as non-admin: %d", got.Status)
	}
	if got := adminDo(t, admin, "DELETE", fmt.Sprintf("/v1/event_reports/%d", id), nil); got.Status != 200 {
		t.Fatalf("delete: %d %v", got.Status, got.Body)
	}
	if got := adminDo(t, admin, "GET", fmt.Sprintf("/v1/event_reports/%d", id), nil); got.Status != 404 {
		t.Errorf("deleted report: %d", got.Status)
	}
	if got := adminDo(t, admin, "GET", "/v1/event_reports", nil); got.Body["total"] != float64(2) {
		t.Errorf("after delete: %v", got.Body)
	}
	if got := adminDo(t, admin, "GET", "/v1/event_reports/abc", nil); got.Status != 400 {
		t.Errorf("non-numeric ID: %d", got.Status)
	}
}
