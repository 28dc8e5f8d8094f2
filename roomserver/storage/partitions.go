package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// partitionEpochs is the newest lease epoch of each room partition.
const partitionEpochs storage.EpochTable = "roomserver_partitions"

// ClaimPartition records that owner took partition p with lease epoch
// (gen, rev); false when a newer epoch is already recorded. The update
// waits for writes still holding the old epoch (CheckPartition), so once
// it commits no write under an older epoch can commit.
func (d *DB) ClaimPartition(ctx context.Context, tx *storage.Tx, p int, gen int64, rev uint64, owner string) (bool, error) {
	return partitionEpochs.Claim(ctx, tx, p, gen, rev, owner)
}

// CheckPartition reports whether (gen, rev) is still partition p's newest
// epoch, inside the caller's write transaction (see storage.EpochTable).
func (d *DB) CheckPartition(ctx context.Context, tx *storage.Tx, p int, gen int64, rev uint64) (bool, error) {
	return partitionEpochs.Check(ctx, tx, p, gen, rev)
}
