package syncapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// onAccountDataMsg copies a userapi account data change into syncapi
// storage at a new account data position.
func (s *SyncAPI) onAccountDataMsg(ctx context.Context, msg stream.Message) error {
	var ad uapi.OutputAccountData
	err := json.Unmarshal(msg.Data, &ad)
	if err == nil && ad.Erased && ad.UserID != "" {
		return s.onErased(ctx, msg, ad.UserID)
	}
	if err != nil || ad.UserID == "" || ad.Type == "" {
		return stream.Poison(fmt.Errorf("malformed account data output: %v", err))
	}
	content := ad.Content
	if len(content) == 0 {
		content = json.RawMessage("{}")
	}
	var pos types.StreamPosition
	err = s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		if pos, err = s.db.UpsertAccountData(ctx, tx, ad.UserID, ad.RoomID, ad.Type, content); err != nil {
			return err
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.AccountData, msg.Seq)
	})
	if err != nil {
		return err
	}
	if ad.Type == matrixrules.MPushRules && ad.RoomID == "" {
		s.push.set(ad.UserID, content)
	}
	if ad.Type == "m.ignored_user_list" && ad.RoomID == "" {
		s.ignores.set(ad.UserID, content)
	}
	s.notif.Advance(func(t *types.StreamToken) { t.AccountData = pos }, ad.UserID)
	return nil
}
