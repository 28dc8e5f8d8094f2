package api

import (
	"encoding/json"

	"github.com/tidwall/gjson"
)

// StrippedChild is an m.space.child event in the stripped form that the
// client and federation /hierarchy responses carry as children_state.
type StrippedChild struct {
	Type           string          `json:"type"`
	StateKey       string          `json:"state_key"`
	Content        json.RawMessage `json:"content"`
	Sender         string          `json:"sender"`
	OriginServerTS int64           `json:"origin_server_ts"`
}

// StrippedChildren returns the space's m.space.child events stripped (only
// suggested ones if suggestedOnly), with the index of each in Children.
func (s *RoomSummary) StrippedChildren(suggestedOnly bool) ([]StrippedChild, []int) {
	out, idx := []StrippedChild{}, []int{}
	for i, ev := range s.ChildrenState {
		if ev.StateKey() == nil || (suggestedOnly && !gjson.GetBytes(ev.Content(), "suggested").Bool()) {
			continue
		}
		out = append(out, StrippedChild{
			Type: ev.Type(), StateKey: *ev.StateKey(), Content: json.RawMessage(ev.Content()),
			Sender: string(ev.SenderID()), OriginServerTS: int64(ev.OriginServerTS()),
		})
		idx = append(idx, i)
	}
	return out, idx
}
