package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHS is an in-memory stand-in for a homeserver, implementing only what
// axon-bench calls, to test the tool's own logic. It is not a Matrix server:
// no auth rules, no state, one global event list.
type fakeHS struct {
	mode        string // registration: "dummy", "token", "closed"
	limitFirst  bool   // answer each username's first /register with a 429
	retryHeader bool   // put that back-off in Retry-After instead of the body
	secret      string // shared secret for the admin API

	mu       sync.Mutex
	seen     map[string]bool
	requests int // to /register
	nonces   map[string]bool
	tokens   map[string]string          // access token → user ID
	members  map[string]map[string]bool // room ID → joined user IDs
	events   []fakeEvent
	changed  chan struct{} // closed and replaced on every new event
}

type fakeEvent struct{ room, sender, body string }

func (f *fakeHS) start(t *testing.T) *httptest.Server {
	f.seen, f.nonces, f.tokens, f.members = map[string]bool{}, map[string]bool{}, map[string]string{}, map[string]map[string]bool{}
	f.changed = make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/versions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"versions": []string{"v1.11"}})
	})
	mux.HandleFunc("POST /_matrix/client/v3/register", f.register)
	mux.HandleFunc("GET /_synapse/admin/v1/register", f.nonce)
	mux.HandleFunc("POST /_synapse/admin/v1/register", f.adminRegister)
	mux.HandleFunc("POST /_matrix/client/v3/login", f.login)
	mux.HandleFunc("POST /_matrix/client/v3/createRoom", f.authed(f.createRoom))
	mux.HandleFunc("POST /_matrix/client/v3/rooms/{room}/join", f.authed(f.join))
	mux.HandleFunc("PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}", f.authed(f.send))
	mux.HandleFunc("GET /_matrix/client/v3/sync", f.authed(f.sync))
	// No filter API: exercises the inline-filter fallback.
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newDevice returns a login response for userID; call with f.mu held.
func (f *fakeHS) newDevice(userID string) map[string]string {
	tok := fmt.Sprintf("at%d", len(f.tokens))
	f.tokens[tok] = userID
	return map[string]string{"user_id": userID, "access_token": tok, "device_id": "DEV" + tok}
}

func (f *fakeHS) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string
		Auth     *struct{ Type, Session, Token string }
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	first := !f.seen[req.Username]
	f.seen[req.Username] = true

	switch {
	case f.limitFirst && first && f.retryHeader:
		w.Header().Set("Retry-After", "0")
		writeJSON(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "slow down"})
	case f.limitFirst && first:
		writeJSON(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "slow down", "retry_after_ms": 5})
	case f.mode == "closed":
		writeJSON(w, 403, map[string]any{"errcode": "M_FORBIDDEN", "error": "Registration is disabled"})
	case req.Auth == nil:
		stage := map[string]string{"dummy": stageDummy, "token": stageToken}[f.mode]
		writeJSON(w, 401, map[string]any{"session": "sess-" + req.Username, "flows": []map[string]any{{"stages": []string{stage}}}, "params": map[string]any{}})
	case req.Auth.Session != "sess-"+req.Username,
		f.mode == "dummy" && req.Auth.Type != stageDummy,
		f.mode == "token" && (req.Auth.Type != stageToken || req.Auth.Token != "tok"):
		writeJSON(w, 401, map[string]any{"errcode": "M_FORBIDDEN", "error": "bad auth"})
	default:
		writeJSON(w, 200, f.newDevice("@"+req.Username+":fake"))
	}
}

func (f *fakeHS) nonce(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := randomHex(8)
	f.nonces[n] = true
	writeJSON(w, 200, map[string]string{"nonce": n})
}

func (f *fakeHS) adminRegister(w http.ResponseWriter, r *http.Request) {
	var req struct{ Nonce, Username, Password, Mac string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	known := f.nonces[req.Nonce]
	delete(f.nonces, req.Nonce)
	if !known || req.Mac != sharedSecretMAC(f.secret, req.Nonce, req.Username, req.Password, false) {
		writeJSON(w, 403, map[string]any{"errcode": "M_FORBIDDEN", "error": "HMAC incorrect"})
		return
	}
	writeJSON(w, 200, f.newDevice("@"+req.Username+":fake"))
}

func (f *fakeHS) login(w http.ResponseWriter, r *http.Request) {
	var req struct{ Identifier struct{ User string } }
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON(w, 200, f.newDevice(req.Identifier.User))
}

// authed resolves the bearer token; handlers run with f.mu NOT held.
func (f *fakeHS) authed(h func(w http.ResponseWriter, r *http.Request, user string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		user, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 401, map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": "who?"})
			return
		}
		h(w, r, user)
	}
}

func (f *fakeHS) createRoom(w http.ResponseWriter, r *http.Request, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := fmt.Sprintf("!r%d:fake", len(f.members))
	f.members[id] = map[string]bool{user: true}
	writeJSON(w, 200, map[string]string{"room_id": id})
}

func (f *fakeHS) join(w http.ResponseWriter, r *http.Request, user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.members[r.PathValue("room")]
	if !ok {
		writeJSON(w, 404, map[string]any{"errcode": "M_NOT_FOUND", "error": "no room " + r.PathValue("room")})
		return
	}
	m[user] = true
	writeJSON(w, 200, map[string]string{"room_id": r.PathValue("room")})
}

func (f *fakeHS) send(w http.ResponseWriter, r *http.Request, user string) {
	var content struct{ Body string }
	_ = json.NewDecoder(r.Body).Decode(&content)
	f.mu.Lock()
	defer f.mu.Unlock()
	room := r.PathValue("room")
	if !f.members[room][user] {
		writeJSON(w, 403, map[string]any{"errcode": "M_FORBIDDEN", "error": "not joined"})
		return
	}
	f.events = append(f.events, fakeEvent{room, user, content.Body})
	close(f.changed)
	f.changed = make(chan struct{})
	writeJSON(w, 200, map[string]string{"event_id": fmt.Sprintf("$e%d", len(f.events))})
}

// sync returns the events after since in the user's rooms, long-polling
// when there are none.
func (f *fakeHS) sync(w http.ResponseWriter, r *http.Request, user string) {
	initial := !r.URL.Query().Has("since")
	since, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("since"), "s"))
	timeoutMs, _ := strconv.Atoi(r.URL.Query().Get("timeout"))
	deadline := time.After(time.Duration(timeoutMs) * time.Millisecond)
	for {
		f.mu.Lock()
		join := map[string]any{}
		for id, m := range f.members {
			if !m[user] {
				continue
			}
			var evs []map[string]any
			for _, e := range f.events[since:] {
				if e.room == id {
					evs = append(evs, map[string]any{"type": "m.room.message", "sender": e.sender, "content": map[string]string{"body": e.body}})
				}
			}
			if initial || len(evs) > 0 {
				join[id] = map[string]any{"timeline": map[string]any{"events": evs}, "summary": map[string]any{"m.joined_member_count": len(m)}}
			}
		}
		next, changed := len(f.events), f.changed
		f.mu.Unlock()
		if initial || len(join) > 0 {
			writeJSON(w, 200, map[string]any{"next_batch": "s" + strconv.Itoa(next), "rooms": map[string]any{"join": join}})
			return
		}
		select {
		case <-changed:
		case <-deadline:
			writeJSON(w, 200, map[string]any{"next_batch": "s" + strconv.Itoa(next)})
			return
		case <-r.Context().Done():
			return
		}
	}
}
