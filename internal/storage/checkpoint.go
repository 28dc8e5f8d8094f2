package storage

import (
	"context"
	"log/slog"
	"time"
)

// WAL checkpoints off the commit path. SQLite's automatic checkpoint runs
// inside the commit that pushes the WAL past 1,000 pages: that commit
// copies the WAL into the database file and fsyncs both (3–15 ms here),
// and every write queued behind it waits. So the writer connection only
// appends (its automatic checkpoint is left as a far safety bound), and
// a goroutine checkpoints from a reader connection after commits, at most
// every checkpointEvery: a PASSIVE checkpoint runs beside the writer
// without blocking it.

// checkpointEvery spaces the background checkpoints (each copies what
// accumulated since the last one).
const checkpointEvery = 200 * time.Millisecond

// writerAutoCheckpointPages is the writer's own automatic checkpoint,
// reached only if the background one cannot keep up (~64 MB of WAL).
const writerAutoCheckpointPages = 16384

func (db *DB) startCheckpointer() {
	db.commitKick = make(chan struct{}, 1)
	db.stopCheckpoints = make(chan struct{})
	db.checkpointerDone = make(chan struct{})
	go db.checkpointLoop()
}

// committed tells the checkpointer that the WAL grew.
func (db *DB) committed() {
	select {
	case db.commitKick <- struct{}{}:
	default:
	}
}

func (db *DB) checkpointLoop() {
	defer close(db.checkpointerDone)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-db.commitKick:
		case <-db.stopCheckpoints:
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := db.reader.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			slog.Warn("sqlite checkpoint", "error", err)
		}
		cancel()
		pause.Reset(checkpointEvery)
		select {
		case <-pause.C:
		case <-db.stopCheckpoints:
			return
		}
	}
}

// stopCheckpointer ends the loop (once, before the reader pool closes).
func (db *DB) stopCheckpointer() {
	close(db.stopCheckpoints)
	<-db.checkpointerDone
}
