package userapi

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
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

// SetAccountData implements api.UserAPI. The write and its stream message
// commit together and are queued for publication under a per-user lock,
// so consumers see a user's changes in the order they were stored.
func (u *UserAPI) SetAccountData(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, dataType string, content json.RawMessage) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	lock := u.userLock(local)
	lock.Lock()
	ticket, err := u.storeAccountData(ctx, local, string(roomID), dataType, content)
	lock.Unlock()
	if err != nil {
		return err
	}
	u.awaitPublished(ctx, local, ticket)
	return nil
}

// storeAccountData writes one item with its stream message (the outbox
// publishes it, also if the log is down now); the caller holds the
// user's lock.
func (u *UserAPI) storeAccountData(ctx context.Context, local, roomID, dataType string, content json.RawMessage) (outbox.Ticket, error) {
	msg, err := json.Marshal(api.OutputAccountData{UserID: u.userID(local), RoomID: roomID, Type: dataType, Content: content})
	if err != nil {
		return outbox.Ticket{}, fmt.Errorf("account data is not valid JSON: %w", err)
	}
	var staged []outbox.Entry
	err = u.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := u.db.SetAccountData(ctx, tx, local, roomID, dataType, content); err != nil {
			return err
		}
		var err error
		staged, err = u.accountData.Stage(ctx, tx, u.userID(local), msg)
		return err
	})
	if err != nil {
		return outbox.Ticket{}, err
	}
	return u.accountData.Queue(staged), nil
}

// awaitPublished answers once the log has the change, so the client's
// next /sync shows it; if the log is slow or down, from the commit.
func (u *UserAPI) awaitPublished(ctx context.Context, local string, ticket outbox.Ticket) {
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountDataPublishWait)
	defer cancel()
	if err := u.accountData.Wait(wait, ticket); err != nil {
		u.base.Log.Warn("account data not yet published; the outbox will publish it", "user_id", u.userID(local), "error", err)
	}
}

// accountDataPublishWait bounds how long a write waits for the log.
const accountDataPublishWait = 3 * time.Second

// SetRoomTag implements api.UserAPI: a read-modify-write of m.tag under
// the user's lock, so concurrent tag changes do not lose each other.
func (u *UserAPI) SetRoomTag(ctx context.Context, userID matrixid.UserID, roomID matrixid.RoomID, tag string, content json.RawMessage) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	lock := u.userLock(local)
	lock.Lock()
	ticket, err := u.setRoomTagLocked(ctx, local, string(roomID), tag, content)
	lock.Unlock()
	if err != nil {
		return err
	}
	u.awaitPublished(ctx, local, ticket)
	return nil
}

func (u *UserAPI) setRoomTagLocked(ctx context.Context, local, roomID, tag string, content json.RawMessage) (outbox.Ticket, error) {
	old, err := u.db.AccountData(ctx, local, roomID, "m.tag")
	if err != nil {
		return outbox.Ticket{}, err
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
			return outbox.Ticket{}, nil
		}
		delete(tags.Tags, tag)
	} else {
		if _, ok := tags.Tags[tag]; !ok && len(tags.Tags) >= api.MaxRoomTags {
			return outbox.Ticket{}, api.ErrTooManyTags
		}
		tags.Tags[tag] = content
	}
	data, err := json.Marshal(tags)
	if err != nil {
		return outbox.Ticket{}, err
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
