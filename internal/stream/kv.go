package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KeyValue creates (or opens) the deployment's JetStream key-value bucket
// name, whose entries expire ttl after they were last written (0: never).
// internal/lease keeps partition leases in one.
func (b *Bus) KeyValue(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	storage := jetstream.FileStorage
	if b.cfg.InMemory {
		storage = jetstream.MemoryStorage
	}
	bucket := b.cfg.Prefix + "_" + name
	// Created once, never updated: a process configured differently must
	// not change the bucket under the others (its user checks the TTL).
	kv, err := b.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   bucket,
		History:  1,
		TTL:      ttl,
		Storage:  storage,
		Replicas: b.cfg.Replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = b.js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("key-value bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// LazyKV is a key-value bucket opened on first use (and again after a
// failure), for users built where no context is at hand.
type LazyKV struct {
	bus  *Bus
	name string
	ttl  time.Duration

	mu  sync.Mutex
	got jetstream.KeyValue
}

// LazyKeyValue is the bucket name (see KeyValue), opened on first use.
func (b *Bus) LazyKeyValue(name string, ttl time.Duration) *LazyKV {
	return &LazyKV{bus: b, name: name, ttl: ttl}
}

// Bucket opens the bucket, or returns it opened.
func (l *LazyKV) Bucket(ctx context.Context) (jetstream.KeyValue, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		kv, err := l.bus.KeyValue(ctx, l.name, l.ttl)
		if err != nil {
			return nil, err
		}
		l.got = kv
	}
	return l.got, nil
}
