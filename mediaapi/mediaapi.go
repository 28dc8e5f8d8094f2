package mediaapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/preview"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// RequestVerifier checks the X-Matrix signature of an inbound federation
// request: federationapi's VerifyRequest, in-process or over RPC.
type RequestVerifier interface {
	VerifyRequest(ctx context.Context, req *fedapi.SignedRequest) (origin string, err error)
}

// RemoteFetcher sends GETs to other servers over the federation transport
// and returns the unread response (federationapi.RawClient).
type RemoteFetcher interface {
	Get(ctx context.Context, server, requestURI string, signed bool) (*http.Response, error)
}

// Deps are what mediaapi needs from other components; both are nil when
// federation is off.
type Deps struct {
	Verifier RequestVerifier
	Remote   RemoteFetcher
}

// MediaAPI is the content repository component.
type MediaAPI struct {
	cfg        config.Media
	serverName string
	maxUpload  int64
	log        *slog.Logger
	router     *httputil.Router // base.Client: its RequireAuth checks tokens
	db         *storage.DB
	store      blob.Store
	tmpDir     string
	freeze     time.Time
	deps       Deps
	uploads    *httputil.Limiter
	preview    *preview.Fetcher // nil when URL previews are off
	// redirect follows the Location form of federation media responses
	// (address-checked like previews: the URL is the remote's choice).
	redirect *preview.Fetcher

	uploaded  uploadNotifier
	fetches   singleflight.Group // remote fetches, by origin/mediaID
	thumbs    singleflight.Group // thumbnail generation, by key
	previews  singleflight.Group // URL previews, by url/hour
	thumbSem  chan struct{}      // bounds concurrent image decodes (memory)
	bg        sync.WaitGroup
	stop      context.CancelFunc
	stopCtx   context.Context
	remoteGet atomic.Int64 // federation fetches made (tests, metrics)
}

// New opens mediaapi's database and file store and registers its routes
// on base.Client (and base.Federation).
func New(ctx context.Context, base *setup.Base, deps Deps) (*MediaAPI, error) {
	cfg := base.Cfg
	db, err := base.OpenDB(ctx, storage.Component, storage.Migrations)
	if err != nil {
		return nil, err
	}
	dir := cfg.ResolvePath(cfg.Media.BasePath)
	m := &MediaAPI{
		cfg:        cfg.Media,
		serverName: cfg.ServerName,
		maxUpload:  cfg.Limits.MaxUploadBytes,
		log:        base.Log.With("component", "mediaapi"),
		db:         storage.New(db),
		tmpDir:     blob.TempDir(dir),
		freeze:     cfg.Media.FreezeTime(),
		deps:       deps,
		uploads:    httputil.NewRateLimiter(cfg.RateLimits, cfg.RateLimits.MediaUploads),
		thumbSem:   make(chan struct{}, 2),
	}
	m.router = base.Client
	switch cfg.Media.Storage {
	case "s3":
		m.store, err = blob.NewS3Store(ctx, cfg.Media.S3)
	default:
		m.store, err = blob.NewFileStore(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("mediaapi: %w", err)
	}
	redirectCfg := previewConfig(cfg.Media.URLPreview)
	redirectCfg.MaxBytes, redirectCfg.Timeout = m.maxUpload, cfg.Media.RemoteTimeout
	if m.redirect, err = preview.NewFetcher(redirectCfg); err != nil {
		return nil, fmt.Errorf("mediaapi: %w", err)
	}
	if cfg.Media.URLPreview.Enabled {
		if m.preview, err = preview.NewFetcher(previewConfig(cfg.Media.URLPreview)); err != nil {
			return nil, fmt.Errorf("mediaapi: %w", err)
		}
	}
	if err := blob.RemoveStale(m.tmpDir, time.Hour); err != nil {
		m.log.Warn("removing stale upload files", "error", err)
	}
	m.stopCtx, m.stop = context.WithCancel(context.WithoutCancel(ctx))
	m.bg.Add(1)
	go m.expirePendingLoop()
	if m.cfg.RemoteCacheMaxAge > 0 {
		m.bg.Add(1)
		go m.evictRemoteLoop()
	}
	if base.Client != nil {
		m.registerRoutes(base)
	}
	return m, nil
}

// Close waits for background work (thumbnails at upload) to finish.
func (m *MediaAPI) Close() {
	m.stop()
	m.bg.Wait()
}

// RemoteFetches is how many files were fetched from other servers.
func (m *MediaAPI) RemoteFetches() int64 { return m.remoteGet.Load() }

// expirePendingLoop deletes /create IDs whose upload never came.
func (m *MediaAPI) expirePendingLoop() {
	defer m.bg.Done()
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := m.db.DeleteExpiredPending(m.stopCtx, time.Now().UnixMilli()); err != nil && m.stopCtx.Err() == nil {
			m.log.Warn("expiring pending uploads", "error", err)
		}
		select {
		case <-m.stopCtx.Done():
			return
		case <-t.C:
		}
	}
}

func previewConfig(c config.URLPreview) preview.Config {
	return preview.Config{Blacklist: c.IPRangeBlacklist, Whitelist: c.IPRangeWhitelist,
		MaxBytes: c.MaxPageBytes, MaxRedirects: c.MaxRedirects, Timeout: c.Timeout}
}

// spoolDir is where uploads are written before they are committed.
func (m *MediaAPI) spoolDir() string { return filepath.Clean(m.tmpDir) }
