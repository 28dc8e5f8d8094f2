package uia

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
)

type fakePasswords struct{ calls int }

var errWrongPassword = errors.New("wrong password")

func isWrongPassword(err error) bool { return errors.Is(err, errWrongPassword) }

func (f *fakePasswords) CheckPassword(_ context.Context, userID matrixid.UserID, pw string) error {
	f.calls++
	if userID == "@alice:test" && pw == "right" {
		return nil
	}
	return errWrongPassword
}

func challengeOf(t *testing.T, r *httputil.JSONResponse) Challenge {
	t.Helper()
	if r == nil || r.Code != http.StatusUnauthorized {
		t.Fatalf("want a 401 challenge, got %+v", r)
	}
	return r.JSON.(Challenge)
}

func TestPasswordFlow(t *testing.T) {
	pw := &fakePasswords{}
	a := New(Config{ServerName: "test", Passwords: pw, Rejected: isWrongPassword})
	req := httptest.NewRequest("POST", "/", nil)
	op := PasswordOp("delete_devices", "@alice:test")

	ch := challengeOf(t, second(a.Authenticate(req, nil, op)))
	if ch.Session == "" || len(ch.Flows) != 1 || ch.Flows[0].Stages[0] != StagePassword {
		t.Fatalf("challenge: %+v", ch)
	}
	// Wrong password: 401 with M_FORBIDDEN, same session.
	ch2 := challengeOf(t, second(a.Authenticate(req, &Auth{Type: StagePassword, Session: ch.Session, Password: "wrong"}, op)))
	if ch2.ErrCode != "M_FORBIDDEN" || ch2.Session != ch.Session {
		t.Fatalf("wrong password: %+v", ch2)
	}
	// An identifier naming someone else is forbidden (403, not a
	// challenge) without a password check.
	calls := pw.calls
	if r := second(a.Authenticate(req, &Auth{Type: StagePassword, Session: ch.Session, Password: "right",
		Identifier: &Identifier{Type: "m.id.user", User: "bob"}}, op)); r == nil || r.Code != http.StatusForbidden {
		t.Fatalf("identifier of another user: want 403, got %+v", r)
	}
	if pw.calls != calls {
		t.Fatal("password checked for the wrong user")
	}
	// The session cannot authorise another operation.
	if _, r := a.Authenticate(req, &Auth{Type: StagePassword, Session: ch.Session, Password: "right"}, PasswordOp("deactivate", "@alice:test")); r == nil || r.Code != 400 {
		t.Fatalf("session of another op: %+v", r)
	}
	id, r := a.Authenticate(req, &Auth{Type: StagePassword, Session: ch.Session, Password: "right",
		Identifier: &Identifier{Type: "m.id.user", User: "Alice"}}, op)
	if r != nil || id != ch.Session {
		t.Fatalf("right password: %q %+v", id, r)
	}
	a.Finish(id)
	if _, r := a.Authenticate(req, &Auth{Type: StagePassword, Session: id, Password: "right"}, op); r == nil || r.Code != 400 {
		t.Fatalf("finished session replayed: %+v", r)
	}
}

func TestStageOrderCustomStageAndRateLimit(t *testing.T) {
	limited := httputil.LimitExceeded(1000)
	a := New(Config{ServerName: "test", Passwords: &fakePasswords{}, Rejected: isWrongPassword,
		RateLimit: func(*http.Request, string) *httputil.JSONResponse { return &limited },
		Stages: map[string]StageFunc{"x.token": func(_ *http.Request, auth *Auth, _ Op) (string, *httputil.JSONResponse) {
			if auth.Token != "ok" {
				return "bad token", nil
			}
			return "", nil
		}}})
	req := httptest.NewRequest("POST", "/", nil)
	op := Op{Key: "k", Flows: [][]string{{"x.token", StageDummy}}}
	ch := challengeOf(t, second(a.Authenticate(req, &Auth{Type: StageDummy}, op)))
	if ch.ErrCode != "M_UNKNOWN" {
		t.Fatalf("out-of-order stage: %+v", ch)
	}
	ch = challengeOf(t, second(a.Authenticate(req, &Auth{Type: "x.token", Token: "ok", Session: ch.Session}, op)))
	if len(ch.Completed) != 1 || ch.Completed[0] != "x.token" {
		t.Fatalf("after first stage: %+v", ch)
	}
	if id, r := a.Authenticate(req, &Auth{Type: StageDummy, Session: ch.Session}, op); r != nil || id == "" {
		t.Fatalf("flow done: %+v", r)
	}
	// The rate limit hook answers before any password check.
	if _, r := a.Authenticate(req, &Auth{Type: StagePassword, Password: "right"}, PasswordOp("p", "@alice:test")); r == nil || r.Code != 429 {
		t.Fatalf("rate limited: %+v", r)
	}
}

func TestSessionExpiryAndCap(t *testing.T) {
	ctx := context.Background()
	s := newSessions(time.Millisecond, 10)
	id, _ := s.Create(ctx, "op")
	testutil.Eventually(t, 5*time.Second, "the 1 ms session to expire", func() bool {
		_, _, ok, _ := s.Get(ctx, id)
		return !ok
	})
	s = newSessions(time.Hour, 10)
	for range 50 {
		_, _ = s.Create(ctx, "op")
	}
	if len(s.m) > 10 {
		t.Fatalf("%d sessions kept, cap 10", len(s.m))
	}
}

func TestUserID(t *testing.T) {
	for in, want := range map[string]string{"Alice": "@alice:test", "@bob:test": "@bob:test"} {
		if got, r := UserID("test", &Identifier{Type: "m.id.user", User: in}, ""); r != nil || got != want {
			t.Errorf("%s: %q %+v", in, got, r)
		}
	}
	if _, r := UserID("test", nil, "@bob:other"); r == nil || r.Code != 403 {
		t.Errorf("remote user: %+v", r)
	}
	if _, r := UserID("test", &Identifier{Type: "m.id.thirdparty"}, ""); r == nil || r.Code != 400 {
		t.Errorf("3pid: %+v", r)
	}
}

func second[A, B any](_ A, b B) B { return b }
