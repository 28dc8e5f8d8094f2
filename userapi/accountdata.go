package userapi

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

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

// SetAccountData implements api.UserAPI. The write and its publication
// happen under a per-user lock so that consumers see a user's changes in
// the order they were stored. If publishing fails the error is returned
// (the client retries; the content is the same, so that is harmless).
func (u *UserAPI) SetAccountData(ctx context.Context, userID, roomID, dataType string, content json.RawMessage) error {
	if u.accountData == nil {
		return errNoLog
	}
	local, err := u.localpart(userID)
	if err != nil {
		return err
	}
	msg, err := json.Marshal(api.OutputAccountData{UserID: u.userID(local), RoomID: roomID, Type: dataType, Content: content})
	if err != nil {
		return fmt.Errorf("account data is not valid JSON: %w", err)
	}
	// Once stored, the change must also be published even if the client
	// goes away, or consumers would miss it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	lock := u.userLock(local)
	lock.Lock()
	defer lock.Unlock()
	if err := u.db.SetAccountData(ctx, local, roomID, dataType, content); err != nil {
		return err
	}
	_, err = u.accountData.Publish(ctx, msg, nil)
	return err
}

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
