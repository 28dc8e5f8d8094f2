package appservice

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
)

// KeyCounter is what MSC3202 needs of the keyserver.
type KeyCounter interface {
	KeyCounts(ctx context.Context, userID matrixid.UserID, deviceID string) (*ksapi.KeyCounts, error)
}

// addKeyCounts adds the one-time key counts and unused fallback key
// types of the devices the transaction's to-device messages are for (an
// encrypted bridge learns after a claim that it should upload more).
// They are read at each attempt: they are state, not events, so a retry
// carries the current ones.
func (s *sender) addKeyCounts(ctx context.Context, body *transactionBody) {
	type device struct{ user, id string }
	seen := map[device]bool{}
	for _, raw := range body.ToDevice {
		var m struct {
			User   string `json:"to_user_id"`
			Device string `json:"to_device_id"`
		}
		if json.Unmarshal(raw, &m) != nil || m.User == "" || m.Device == "" || seen[device{m.User, m.Device}] {
			continue
		}
		seen[device{m.User, m.Device}] = true
		counts, err := s.keys.KeyCounts(ctx, matrixid.UserID(m.User), m.Device)
		if err != nil {
			s.log.Warn("one-time key counts for an appservice device", "user_id", m.User, "device_id", m.Device, "error", err)
			continue
		}
		if body.OTKCounts == nil {
			body.OTKCounts = map[string]map[string]map[string]int{}
			body.FallbackKeyTypes = map[string]map[string][]string{}
		}
		if body.OTKCounts[m.User] == nil {
			body.OTKCounts[m.User] = map[string]map[string]int{}
			body.FallbackKeyTypes[m.User] = map[string][]string{}
		}
		otk := counts.OneTimeKeyCounts
		if otk == nil {
			otk = map[string]int{}
		}
		fallback := counts.UnusedFallbackKeyAlgs
		if fallback == nil {
			fallback = []string{}
		}
		body.OTKCounts[m.User][m.Device] = otk
		body.FallbackKeyTypes[m.User][m.Device] = fallback
	}
}
