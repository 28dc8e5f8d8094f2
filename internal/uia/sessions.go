package uia

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"sync"
	"time"
)

// Store keeps UIA sessions: the operation each was issued for and the
// stages completed so far. Sessions last minutes and losing them only
// makes clients start over, so the default store is this process's
// memory; several clientapi processes behind one load balancer share a
// NATS key-value store instead (KVStore), so a flow started on one
// continues on another.
type Store interface {
	// Create starts a session for op and returns its ID.
	Create(ctx context.Context, op string) (string, error)
	// Get is a live session's operation and completed stages (ok false:
	// unknown or expired).
	Get(ctx context.Context, id string) (op string, completed []string, ok bool, err error)
	// Complete adds stage to the session's completed stages and returns
	// them all.
	Complete(ctx context.Context, id, stage string) ([]string, error)
	// Remove ends a session.
	Remove(ctx context.Context, id string)
}

// newSessionID is 18 random bytes, URL-safe (a valid NATS key too).
func newSessionID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// session is one in-memory session.
type session struct {
	op        string
	completed []string
	expires   time.Time
}

// sessions is the in-memory Store.
type sessions struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(ttl time.Duration, max int) *sessions {
	return &sessions{ttl: ttl, max: max, m: map[string]*session{}}
}

func (s *sessions) Create(_ context.Context, op string) (string, error) {
	id := newSessionID()
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.evictLocked(now)
	}
	s.m[id] = &session{op: op, expires: now.Add(s.ttl)}
	return id, nil
}

// evictLocked drops expired sessions and, if that is not enough (a flood
// of new sessions), arbitrary ones down to 90% of the cap, so that the
// scan runs rarely.
func (s *sessions) evictLocked(now time.Time) {
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	for k := range s.m {
		if len(s.m) < s.max*9/10 {
			break
		}
		delete(s.m, k)
	}
}

// getLocked returns a live session, or nil.
func (s *sessions) getLocked(id string) *session {
	sess := s.m[id]
	if sess != nil && time.Now().After(sess.expires) {
		delete(s.m, id)
		return nil
	}
	return sess
}

func (s *sessions) Get(_ context.Context, id string) (string, []string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.getLocked(id)
	if sess == nil {
		return "", nil, false, nil
	}
	return sess.op, slices.Clone(sess.completed), true, nil
}

func (s *sessions) Complete(_ context.Context, id, stage string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.getLocked(id)
	if sess == nil {
		return nil, errSessionGone
	}
	if !slices.Contains(sess.completed, stage) {
		sess.completed = append(sess.completed, stage)
	}
	return slices.Clone(sess.completed), nil
}

func (s *sessions) Remove(_ context.Context, id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}
