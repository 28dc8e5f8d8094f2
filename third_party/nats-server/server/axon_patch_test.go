package server

// Axon patch test (AXON-PATCH.md): Options.JetStreamBlockCacheExpire
// reaches the file store of every stream created through JetStream, and
// a block's messages leave memory that long after their last use.

import (
	"testing"
	"time"
)

func startAxonPatchServer(t *testing.T, expire time.Duration) *Server {
	t.Helper()
	srv, err := NewServer(&Options{
		ServerName:                "axon-patch-test",
		DontListen:                true,
		JetStream:                 true,
		StoreDir:                  t.TempDir(),
		NoSigs:                    true,
		NoLog:                     true,
		JetStreamBlockCacheExpire: expire,
	})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server did not start")
	}
	return srv
}

func addAxonPatchStream(t *testing.T, srv *Server) *fileStore {
	t.Helper()
	mset, err := srv.GlobalAccount().addStream(&StreamConfig{Name: "T", Subjects: []string{"t"}, Storage: FileStorage})
	if err != nil {
		t.Fatalf("add stream: %v", err)
	}
	fs, ok := mset.store.(*fileStore)
	if !ok {
		t.Fatalf("store is %T, want *fileStore", mset.store)
	}
	return fs
}

func TestAxonPatchBlockCacheExpireDefault(t *testing.T) {
	fs := addAxonPatchStream(t, startAxonPatchServer(t, 0))
	if got := fs.fcfg.CacheExpire; got != defaultCacheBufferExpiration {
		t.Fatalf("CacheExpire = %v with the option unset, want the default %v", got, defaultCacheBufferExpiration)
	}
}

func TestAxonPatchBlockCacheExpire(t *testing.T) {
	const expire = 200 * time.Millisecond
	fs := addAxonPatchStream(t, startAxonPatchServer(t, expire))
	if got := fs.fcfg.CacheExpire; got != expire {
		t.Fatalf("CacheExpire = %v, want %v", got, expire)
	}
	for i := 0; i < 100; i++ {
		if _, _, err := fs.StoreMsg("t", nil, []byte("message"), 0); err != nil {
			t.Fatalf("store: %v", err)
		}
	}
	if _, err := fs.LoadMsg(50, nil); err != nil {
		t.Fatalf("load: %v", err)
	}
	fs.mu.RLock()
	mb := fs.lmb
	fs.mu.RUnlock()
	loaded := func() bool {
		mb.mu.RLock()
		defer mb.mu.RUnlock()
		return mb.cacheAlreadyLoaded()
	}
	if !loaded() {
		t.Fatal("block cache not loaded right after a write and a read")
	}
	// Axon's testutil.Eventually is in the module that imports this one,
	// so the deadline poll is written out here.
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for loaded() {
		select {
		case <-deadline:
			t.Fatalf("block cache still in memory 5 s after its last use (expiry %v)", expire)
		case <-tick.C:
		}
	}
	if _, err := fs.LoadMsg(50, nil); err != nil {
		t.Fatalf("load after the cache expired: %v", err)
	}
}
