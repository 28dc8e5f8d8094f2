package syncapi

import (
	"github.com/axon-hs/axon/internal/boundedmap"
	"github.com/axon-hs/axon/syncapi/types"
)

// parsedFilters keeps stored filters parsed, by (user, filter ID): a
// stored filter never changes, a client sends its ID with every /sync,
// and parsing it was a few percent of a woken long-poll's CPU. Filters
// are read-only once parsed, so one is shared by every request naming it.
type parsedFilters = boundedmap.Map[[2]string, *types.Filter]

// maxParsedFilters bounds the filters kept (emptied when full).
const maxParsedFilters = 10_000

func newParsedFilters() *parsedFilters {
	return boundedmap.New[[2]string, *types.Filter](maxParsedFilters)
}
