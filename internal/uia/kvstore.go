package uia

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// errSessionGone: the session expired or ended while a stage ran.
var errSessionGone = errors.New("uia session gone")

// kvStore keeps sessions in a NATS key-value bucket whose entries expire
// the bucket's TTL after their last write (the session TTL), shared by
// every process using the bucket.
type kvStore struct {
	bucket func(ctx context.Context) (jetstream.KeyValue, error)
}

// KVStore shares sessions through the bucket that bucket returns
// (entries expire with its TTL; stream.LazyKV.Bucket opens it on first
// use).
func KVStore(bucket func(ctx context.Context) (jetstream.KeyValue, error)) Store {
	return &kvStore{bucket: bucket}
}

type kvSession struct {
	Op        string   `json:"op"`
	Completed []string `json:"completed,omitempty"`
}

func (s *kvStore) Create(ctx context.Context, op string) (string, error) {
	kv, err := s.bucket(ctx)
	if err != nil {
		return "", err
	}
	id := newSessionID()
	data, err := json.Marshal(kvSession{Op: op})
	if err != nil {
		return "", err
	}
	_, err = kv.Create(ctx, id, data)
	return id, err
}

func (s *kvStore) load(ctx context.Context, id string) (kvSession, uint64, bool, error) {
	var v kvSession
	kv, err := s.bucket(ctx)
	if err != nil {
		return v, 0, false, err
	}
	e, err := kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return v, 0, false, nil
	}
	if err != nil {
		return v, 0, false, err
	}
	if json.Unmarshal(e.Value(), &v) != nil {
		return v, 0, false, nil
	}
	return v, e.Revision(), true, nil
}

func (s *kvStore) Get(ctx context.Context, id string) (string, []string, bool, error) {
	v, _, ok, err := s.load(ctx, id)
	return v.Op, v.Completed, ok, err
}

// Complete updates on the revision read, so two processes completing
// stages of one session at once both count (the loser reads again).
func (s *kvStore) Complete(ctx context.Context, id, stage string) ([]string, error) {
	kv, err := s.bucket(ctx)
	if err != nil {
		return nil, err
	}
	for {
		v, rev, ok, err := s.load(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errSessionGone
		}
		if slices.Contains(v.Completed, stage) {
			return v.Completed, nil
		}
		v.Completed = append(v.Completed, stage)
		data, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		_, err = kv.Update(ctx, id, data, rev)
		if err == nil {
			return v.Completed, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) || ctx.Err() != nil {
			return nil, err
		}
		// Another process wrote first: read again.
	}
}

func (s *kvStore) Remove(ctx context.Context, id string) {
	if kv, err := s.bucket(ctx); err == nil {
		_ = kv.Delete(ctx, id)
	}
}
