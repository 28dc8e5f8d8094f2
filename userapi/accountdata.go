package userapi

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/userapi/api"
)

// AccountData implements api.UserAPI.
func (u *UserAPI) AccountData(ctx context.Context, userID, roomID, dataType string) (json.RawMessage, error) {
	local, err := u.localpart(userID)
	if err != nil {
		return nil, err
	}
	return u.db.AccountData(ctx, local, roomID, dataType)
}

// SetAccountData implements api.UserAPI. The write and its stream message
// commit together and are queued for publication under a per-user lock,
// so consumers see a user's changes in the order they were stored.
func (u *UserAPI) SetAccountData(ctx context.Context, userID, roomID, dataType string, content json.RawMessage) error {
	local, err := u.localpart(userID)
	if err != nil {
		return err
	}
	msg, err := json.Marshal(api.OutputAccountData{UserID: u.userID(local), RoomID: roomID, Type: dataType, Content: content})
	if err != nil {
		return fmt.Errorf("account data is not valid JSON: %w", err)
	}
	// The change and its stream message commit together (the outbox
	// publishes it, also if the log is down now); the lock keeps a user's
	// changes in order on the stream.
	lock := u.userLock(local)
	lock.Lock()
	var staged []outbox.Entry
	err = u.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := u.db.SetAccountData(ctx, tx, local, roomID, dataType, content); err != nil {
			return err
		}
		var err error
		staged, err = u.accountData.Stage(ctx, tx, u.userID(local), msg)
		return err
	})
	var ticket outbox.Ticket
	if err == nil {
		ticket = u.accountData.Queue(staged)
	}
	lock.Unlock()
	if err != nil {
		return err
	}
	// Answered once the log has it, so the client's next /sync shows it;
	// if the log is slow or down, from the commit.
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountDataPublishWait)
	defer cancel()
	if err := u.accountData.Wait(wait, ticket); err != nil {
		u.base.Log.Warn("account data not yet published; the outbox will publish it", "user_id", u.userID(local), "error", err)
	}
	return nil
}

// accountDataPublishWait bounds how long a write waits for the log.
const accountDataPublishWait = 3 * time.Second

// AllAccountData implements api.UserAPI.
func (u *UserAPI) AllAccountData(ctx context.Context, userID string) (*api.AccountDataSet, error) {
	local, err := u.localpart(userID)
	if err != nil {
		return nil, err
	}
	global, rooms, err := u.db.AllAccountData(ctx, local)
	if err != nil {
		return nil, err
	}
	return &api.AccountDataSet{Global: global, Rooms: rooms}, nil
}

func (u *UserAPI) userLock(localpart string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(localpart))
	return &u.userLocks[h.Sum32()%uint32(len(u.userLocks))]
}
