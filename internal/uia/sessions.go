package uia

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"sync"
	"time"
)

// session is one UIA session: the operation it was issued for and the
// stages completed so far.
type session struct {
	op        string
	completed []string
	expires   time.Time
}

// sessions is the in-memory session store. Sessions last minutes, and a
// restart only makes the client start over, so they are not persisted.
type sessions struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(ttl time.Duration, max int) *sessions {
	return &sessions{ttl: ttl, max: max, m: map[string]*session{}}
}

func (s *sessions) create(op string) (string, *session) {
	var b [18]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.evictLocked(now)
	}
	sess := &session{op: op, expires: now.Add(s.ttl)}
	s.m[id] = sess
	return id, sess
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

// get returns a live session, or nil.
func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[id]
	if sess != nil && time.Now().After(sess.expires) {
		delete(s.m, id)
		return nil
	}
	return sess
}

// completedStages returns a copy, safe to use outside the lock.
func (s *sessions) completedStages(sess *session) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(sess.completed)
}

func (s *sessions) complete(sess *session, stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(sess.completed, stage) {
		sess.completed = append(sess.completed, stage)
	}
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}
