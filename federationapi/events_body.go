package federationapi

import (
	"encoding/json"
	"slices"

	"github.com/axon-hs/axon/internal/httputil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// eventsBody answers with the object fields plus arrays of events
// written as stored: through encoding/json each event's JSON is checked
// and copied again, on the request's one goroutine (a big room's
// send_join or /state is tens of thousands of events).
func (f *FederationAPI) eventsBody(fields map[string]any, arrays map[string][]*rsapi.Event) httputil.JSONResponse {
	if fields == nil {
		fields = map[string]any{} // not null
	}
	head, err := json.Marshal(fields)
	if err != nil {
		return f.internal("response", err)
	}
	size := len(head)
	for _, evs := range arrays {
		for _, e := range evs {
			size += len(e.JSON()) + 1
		}
	}
	keys := make([]string, 0, len(arrays))
	for k := range arrays {
		keys = append(keys, k)
		size += len(k) + 5
	}
	slices.Sort(keys)
	buf := make([]byte, 0, size)
	buf = append(buf, head[:len(head)-1]...) // without its closing brace
	for _, k := range keys {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		name, _ := json.Marshal(k)
		buf = append(append(buf, name...), ':', '[')
		for i, e := range arrays[k] {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, e.JSON()...)
		}
		buf = append(buf, ']')
	}
	return httputil.OK(json.RawMessage(append(buf, '}')))
}
