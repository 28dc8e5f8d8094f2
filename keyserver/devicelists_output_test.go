package keyserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// flakyLog fails publications while down and records the others.
type flakyLog struct {
	down atomic.Bool
	mu   sync.Mutex
	got  []api.DeviceListUpdate
}

func (l *flakyLog) Publish(_ context.Context, data []byte, _ map[string]string) (uint64, error) {
	if l.down.Load() {
		return 0, errors.New("nats: connection closed")
	}
	var u api.DeviceListUpdate
	if err := json.Unmarshal(data, &u); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, u)
	return uint64(len(l.got)), nil
}

func (l *flakyLog) updates() []api.DeviceListUpdate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]api.DeviceListUpdate(nil), l.got...)
}

type noDevices struct{ uapi.UserAPI }

func (noDevices) QueryDevice(context.Context, matrixid.UserID, string) (*uapi.DeviceInfo, error) {
	return nil, uapi.ErrNotFound
}

func testKeyserver(t *testing.T, db *istorage.DB, log outbox.Publisher) *Keyserver {
	k := &Keyserver{serverName: "test", log: slog.Default(), db: storage.New(db), users: noDevices{}, sendWait: 100 * time.Millisecond,
		outbox: outbox.New(db, log, outbox.Config{Table: storage.OutboxTable, MsgIDPrefix: "t-"})}
	if err := k.outbox.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

// A key change committed while the log is down is answered with success
// and announced once the log is back (here: by the next start).
func TestKeyChangeSurvivesLogOutage(t *testing.T) {
	storagetest.ForEachBackend(t, "keyserver", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		log := &flakyLog{}
		log.down.Store(true)
		k := testKeyserver(t, db, log)
		if err := k.DeleteDeviceKeys(ctx, "@a:test", []string{"D"}); err != nil { // no keys: nothing to say
			t.Fatal(err)
		}
		up := &api.UploadKeysRequest{UserID: "@a:test", DeviceID: "D",
			DeviceKeys: json.RawMessage(`{"user_id":"@a:test","device_id":"D","keys":{"ed25519:D":"pub"}}`)}
		// The log stays down throughout, so the upload can only answer
		// by giving up waiting for it (after sendWait, 100 ms). The
		// bound below only turns a hang into a failure.
		uploaded := make(chan error, 1)
		go func() {
			_, err := k.UploadKeys(ctx, up)
			uploaded <- err
		}()
		select {
		case err := <-uploaded:
			if err != nil {
				t.Fatalf("upload while the log is down: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("upload still waiting for a log that is down")
		}
		k.Close()
		if len(log.updates()) != 0 {
			t.Fatal("published while down")
		}

		log.down.Store(false)
		k2 := testKeyserver(t, db, log)
		defer k2.Close()
		if err := k2.DeleteDeviceKeys(ctx, "@a:test", []string{"D"}); err != nil {
			t.Fatal(err)
		}
		got := log.updates()
		if len(got) != 2 || got[0].StreamID != 1 || got[0].DeviceID != "D" || got[1].StreamID != 2 || !got[1].Deleted {
			t.Fatalf("published %+v", got)
		}
	})
}
