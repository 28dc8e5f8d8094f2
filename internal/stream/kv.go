package stream

import (
	"context"
	"errors"
	"fmt"
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
