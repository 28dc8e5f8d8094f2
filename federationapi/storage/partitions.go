package storage

import (
	"context"
	"errors"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// partitionEpochs is the newest lease epoch of each destination partition
// (federationapi/partition.go).
const partitionEpochs istorage.EpochTable = "federationapi_partitions"

// Fence is the lease a write is made under: a destination partition and
// its lease epoch (lease.Epoch's generation and revision).
type Fence struct {
	Partition int
	Gen       int64
	Rev       uint64
}

// ErrFenced: the partition lease the write was made under is no longer
// the newest; another federationapi process has taken the partition.
var ErrFenced = errors.New("federation partition taken over by another process")

// ClaimPartition records that owner took partition p with lease epoch
// (gen, rev); false when a newer epoch is recorded. It waits for
// transactions checking the older epoch (CheckFence), so once it returns
// the former holder can commit nothing more under it.
func (s *DB) ClaimPartition(ctx context.Context, p int, gen int64, rev uint64, owner string) (bool, error) {
	var claimed bool
	err := s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		claimed, err = partitionEpochs.Claim(ctx, tx, p, gen, rev, owner)
		return err
	})
	return claimed, err
}

// CheckFence fails with ErrFenced unless f is still its partition's
// newest epoch, inside tx (which then holds it until it ends).
func (s *DB) CheckFence(ctx context.Context, tx *istorage.Tx, f Fence) error {
	if f.Rev == 0 {
		return ErrFenced // no lease held
	}
	ok, err := partitionEpochs.Check(ctx, tx, f.Partition, f.Gen, f.Rev)
	if err != nil {
		return err
	}
	if !ok {
		return ErrFenced
	}
	return nil
}

// SetWriterFence makes every consumer transaction (SetPosition) check f:
// the stream consumers run only in the process holding f's partition.
// An empty Fence refuses them all; without a call (one federationapi
// process) nothing is checked.
func (s *DB) SetWriterFence(f Fence) {
	s.writer.Store(&f)
}
