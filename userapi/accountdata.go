package userapi

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/userapi/api"
)

// AccountData implements api.UserAPI.
func (u *UserAPI) AccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string) (json.RawMessage, error) {
	local, err := u.localpart(string(userID))
	if err != nil {
		return nil, err
	}
	return u.db.AccountData(ctx, local, string(roomID), dataType)
}

// SetAccountData implements api.UserAPI. The write and its publication
// happen under a per-user lock so that consumers see a user's changes in
// the order they were stored. If publishing fails the error is returned
// (the client retries; the content is the same, so that is harmless).
func (u *UserAPI) SetAccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string, content json.RawMessage) error {
	if u.accountData == nil {
		return errNoLog
	}
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	// Once stored, the change must also be published even if the client
	// goes away, or consumers would miss it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	lock := u.userLock(local)
	lock.Lock()
	defer lock.Unlock()
	return u.storeAccountData(ctx, local, string(roomID), dataType, content)
}

// storeAccountData writes and publishes one item; the caller holds the
// user's lock.
func (u *UserAPI) storeAccountData(ctx context.Context, local, roomID, dataType string, content json.RawMessage) error {
	msg, err := json.Marshal(api.OutputAccountData{UserID: u.userID(local), RoomID: roomID, Type: dataType, Content: content})
	if err != nil {
		return fmt.Errorf("account data is not valid JSON: %w", err)
	}
	if err := u.db.SetAccountData(ctx, local, roomID, dataType, content); err != nil {
		return err
	}
	_, err = u.accountData.Publish(ctx, msg, nil)
	return err
}

// SetRoomTag implements api.UserAPI: a read-modify-write of m.tag under
// the user's lock, so concurrent tag changes do not lose each other.
func (u *UserAPI) SetRoomTag(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, tag string, content json.RawMessage) error {
	if u.accountData == nil {
		return errNoLog
	}
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	lock := u.userLock(local)
	lock.Lock()
	defer lock.Unlock()
	old, err := u.db.AccountData(ctx, local, string(roomID), "m.tag")
	if err != nil {
		return err
	}
	var tags struct {
		Tags map[string]json.RawMessage `json:"tags"`
	}
	_ = json.Unmarshal(old, &tags) // unset or not an object: start empty
	if tags.Tags == nil {
		tags.Tags = map[string]json.RawMessage{}
	}
	if content == nil {
		if _, ok := tags.Tags[tag]; !ok {
			return nil
		}
		delete(tags.Tags, tag)
	} else {
		if _, ok := tags.Tags[tag]; !ok && len(tags.Tags) >= api.MaxRoomTags {
			return api.ErrTooManyTags
		}
		tags.Tags[tag] = content
	}
	data, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	return u.storeAccountData(ctx, local, string(roomID), "m.tag", data)
}

// AllAccountData implements api.UserAPI.
func (u *UserAPI) AllAccountData(ctx context.Context, userID matrixid.UserID) (*api.AccountDataSet, error) {
	local, err := u.localpart(string(userID))
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
