package reports

import (
	"context"
	"log/slog"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/reports/storage"
)

// Reports serves the report routes.
type Reports struct {
	base  *setup.Base
	log   *slog.Logger
	db    *storage.DB
	limit *httputil.Limiter
}

// New opens the reports database and registers the routes.
func New(ctx context.Context, base *setup.Base) (*Reports, error) {
	sdb, err := base.OpenDB(ctx, "reports", storage.Migrations)
	if err != nil {
		return nil, err
	}
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	cfg := base.Cfg.RateLimits
	r := &Reports{base: base, log: log.With("component", "reports"), db: storage.New(sdb), limit: httputil.NewRateLimiter(cfg, cfg.Reports)}
	if base.Client != nil {
		r.registerRoutes()
	}
	return r, nil
}

// List returns reports newest first with id < before (0: the newest), at
// most limit (for the admin API).
func (r *Reports) List(ctx context.Context, before int64, limit int) ([]storage.Report, error) {
	return r.db.Reports(ctx, before, limit)
}
