package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/axon-hs/axon/federationapi"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/logging"
	"github.com/axon-hs/axon/server"
)

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	configPath := fs.String("config", "axon.yaml", "path to the config file")
	components := fs.String("components", "", "comma-separated components to run (polylith); default all")
	instance := fs.String("instance", "", "this process's name among several processes of its component (partitioning.instance)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadOrCreateConfig(*configPath)
	if err != nil {
		return err
	}
	if *components != "" || *instance != "" {
		if *components != "" {
			cfg.Components = splitList(*components)
		}
		if *instance != "" {
			cfg.Partitioning.Instance = *instance
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	log := logging.New(cfg.Logging, os.Stderr)
	if cfg.Limits.MemoryLimitMB > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.Limits.MemoryLimitMB << 20)
	}
	if os.Getenv("GOGC") == "" {
		// Collect when the heap has grown by half its live size, not
		// doubled: peak RSS over axon-bench all fell ~20 MB for ~5 % more
		// CPU per event (docs/performance.md). GOGC overrides it.
		debug.SetGCPercent(defaultGCPercent)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	// The build's version is what federation, the admin API and
	// axon_build_info report.
	federationapi.Version = version
	srv, err := server.New(startCtx, cfg, log)
	cancel()
	if err != nil {
		return fmt.Errorf("start-up failed: %w", err)
	}
	if err := srv.Listen(); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	// Start-up is over: what it filled (SQLite connections and caches,
	// the binary's pages) need not stay resident.
	srv.Base.ReleaseIdleMemory(ctx)
	trimCHeap()
	releaseStartupPages()
	log.Info("axon is running", "server_name", cfg.ServerName, "version", version,
		"client_url", "http://"+srv.Addr("client"), "registration", cfg.Registration.Mode)
	<-ctx.Done()
	log.Info("shutting down (send the signal again to force)")
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.Shutdown(shutdownCtx)
	log.Info("stopped")
	return nil
}

// defaultGCPercent is the GC target unless GOGC is set (see runCmd).
const defaultGCPercent = 50

// loadOrCreateConfig loads path; if it does not exist, writes the example
// config there first so a newcomer's first `axon run` just works.
func loadOrCreateConfig(path string) (*config.Config, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, []byte(config.Example("")), 0o600); err != nil {
			return nil, fmt.Errorf("write default config: %w", err)
		}
		fmt.Fprintf(os.Stderr, "axon: no config found; wrote a default one to %s (SQLite + embedded NATS in ./data, registration closed)\n", path)
	}
	return config.Load(path)
}
