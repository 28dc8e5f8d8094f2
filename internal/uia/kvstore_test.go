package uia

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/stream/natstest"
)

// TestKVStoreSharedFlow: a two-stage flow started through one
// Authenticator (one clientapi process) completes through another that
// shares the key-value bucket; a finished session is gone for both.
func TestKVStoreSharedFlow(t *testing.T) {
	srv := natstest.Start(t)
	store := func() Store {
		return KVStore(srv.Bus(t, "uiat").LazyKeyValue("uia_sessions", time.Minute).Bucket)
	}
	op := Op{Key: "op", Flows: [][]string{{StageDummy, "x.token"}}}
	pass := map[string]StageFunc{"x.token": func(*http.Request, *Auth, Op) (string, *httputil.JSONResponse) { return "", nil }}
	a := New(Config{ServerName: "test", Store: store(), Stages: pass})
	b := New(Config{ServerName: "test", Store: store(), Stages: pass})
	req := httptest.NewRequest("POST", "/", nil)

	_, ch := a.Authenticate(req, nil, op)
	session := challengeOf(t, ch).Session
	if c := challengeOf(t, second(b.Authenticate(req, &Auth{Type: StageDummy, Session: session}, op))); len(c.Completed) != 1 {
		t.Fatalf("first stage at the other process: %+v", c)
	}
	id, r := a.Authenticate(req, &Auth{Type: "x.token", Session: session}, op)
	if r != nil || id != session {
		t.Fatalf("second stage back at the first process: %q %+v", id, r)
	}
	if _, r := b.Authenticate(req, &Auth{Type: StageDummy, Session: session}, Op{Key: "other", Flows: op.Flows}); r == nil || r.Code != 400 {
		t.Fatalf("session used for another operation: %+v", r)
	}
	b.Finish(session)
	if _, r := a.Authenticate(req, &Auth{Type: "x.token", Session: session}, op); r == nil || r.Code != 400 {
		t.Fatalf("finished session still usable: %+v", r)
	}
}
