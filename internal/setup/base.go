// Package setup holds what every component is built from: the config, the
// log (NATS), the HTTP routers and a way to open its own database. It
// knows no component, so any component may import it.
package setup

import (
	"context"
	"fmt"
	"github.com/axon-hs/axon/internal/uia"
	"log/slog"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
)

// Base is handed to every component's constructor.
type Base struct {
	Cfg *config.Config
	Bus *stream.Bus
	// Client serves the Client-Server API (and well-known, media).
	Client *httputil.Router
	// Federation serves the Server-Server API. It is the same router as
	// Client when no separate federation listener is configured.
	Federation *httputil.Router
	Log        *slog.Logger

	mu      sync.Mutex
	dbs     []*storage.DB
	dbNames []string
	uia     uia.Store // UIASessions, once made
}

// OpenDB opens component's database (per the config) and brings its schema
// up to date. It is closed by Close.
func (b *Base) OpenDB(ctx context.Context, component string, migrations []storage.Migration) (*storage.DB, error) {
	dsn := storage.WithApplicationName(b.Cfg.DatabaseDSN(component), "axon-"+component)
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s database: %w", component, err)
	}
	if err := db.Migrate(ctx, component, migrations); err != nil {
		db.Close()
		return nil, err
	}
	db.Instrument(component)
	b.mu.Lock()
	b.dbs = append(b.dbs, db)
	b.dbNames = append(b.dbNames, component)
	b.mu.Unlock()
	return db, nil
}

// Stream opens one of the named streams (see stream.RoomEvents etc.),
// keeping messages without an age limit.
func (b *Base) Stream(ctx context.Context, name string) (*stream.Stream, error) {
	return b.Bus.Stream(ctx, name, 0, 0)
}

// CloseDatabases closes every database opened through OpenDB.
func (b *Base) CloseDatabases() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, db := range b.dbs {
		if err := db.Close(); err != nil {
			b.Log.Warn("closing database", "error", err)
		}
	}
	b.dbs, b.dbNames = nil, nil
}

// ReleaseIdleMemory gives back the memory start-up left in the
// databases' connections (storage.DB.ReleaseIdleMemory); the server
// calls it once it is up.
func (b *Base) ReleaseIdleMemory(ctx context.Context) {
	b.mu.Lock()
	dbs, names := append([]*storage.DB(nil), b.dbs...), append([]string(nil), b.dbNames...)
	b.mu.Unlock()
	// Bounded: the writer's part waits for a running commit.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i, db := range dbs {
		if err := db.ReleaseIdleMemory(ctx); err != nil {
			b.Log.Warn("releasing idle database memory", "database", names[i], "error", err)
		}
	}
}

// CheckDatabases checks every database opened through OpenDB, returning
// each component's error (nil when it answered).
func (b *Base) CheckDatabases(ctx context.Context) map[string]error {
	b.mu.Lock()
	dbs, names := append([]*storage.DB(nil), b.dbs...), append([]string(nil), b.dbNames...)
	b.mu.Unlock()
	out := make(map[string]error, len(dbs))
	for i, db := range dbs {
		out[names[i]] = db.Check(ctx)
	}
	return out
}
