package syncapi

import (
	"runtime"
	"sync"

	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
)

// parallelParseFrom is the number of added state events from which they
// are parsed on every core: a joined room's state (tens of thousands of
// events) is the consumer's biggest single job, and each event's parse
// and client format stand alone.
const parallelParseFrom = 256

// parseAddedState parses the state events an output carries (all but
// eventID, the output's own event, and those that do not parse), in the
// output's order, each once.
func (s *SyncAPI) parseAddedState(ore *rsapi.OutputNewRoomEvent, eventID string) []*types.Event {
	n := len(ore.AddedStateEvents)
	parsed := make([]*types.Event, n)
	parse := func(i int) {
		p, err := ore.ParseAddedStateEvent(i)
		if err != nil {
			s.log.Warn("unparseable added state event", "room_id", ore.RoomID, "error", err)
			return
		}
		if a, err := types.EventFromPDU(p.PDU, ""); err == nil {
			parsed[i] = a
		}
	}
	if workers := runtime.GOMAXPROCS(0); n >= parallelParseFrom && workers > 1 {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					parse(i)
				}
			}()
		}
		wg.Wait()
	} else {
		for i := range n {
			parse(i)
		}
	}
	seen := make(map[string]bool, n)
	out := make([]*types.Event, 0, n)
	for _, a := range parsed {
		if a != nil && a.EventID != eventID && !seen[a.EventID] {
			seen[a.EventID] = true
			out = append(out, a)
		}
	}
	return out
}
