package syncapi

import (
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// parsedFilters keeps stored filters parsed: a stored filter never
// changes, a client sends its ID with every /sync, and parsing it was a
// few percent of a woken long-poll's CPU. Filters are read-only once
// parsed, so one is shared by every request naming it.
type parsedFilters struct {
	mu sync.Mutex
	m  map[[2]string]*types.Filter // (user, filter ID)
}

// maxParsedFilters bounds the filters kept (emptied when full).
const maxParsedFilters = 10_000

func (p *parsedFilters) get(userID, id string) *types.Filter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[[2]string{userID, id}]
}

func (p *parsedFilters) put(userID, id string, f *types.Filter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxParsedFilters {
		p.m = map[[2]string]*types.Filter{}
	}
	p.m[[2]string{userID, id}] = f
}
