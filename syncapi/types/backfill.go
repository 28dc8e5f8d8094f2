package types

// Backfilled history (events older than any this server had, fetched
// from other servers) sits below every live position: live events count
// up from 1, backfilled ones are placed by depth in
// [MinBackfillPos, 0), so /messages walks into them past a room's
// oldest live event while /sync (positions > 0) never sees them.
const (
	// MinBackfillPos is the lowest position a backfilled event can have.
	MinBackfillPos StreamPosition = -(1 << 62)
	// backfillSlots events of one depth fit side by side.
	backfillSlotBits = 20
	// MaxBackfillDepth: deeper events cannot be placed (2^41 is far
	// beyond any real room).
	MaxBackfillDepth = 1 << 41
)

// BackfillPos is the position for a backfilled event of depth in slot
// (0 ≤ slot < 2^20; events of one depth differ by slot). ok is false if
// it cannot be placed.
func BackfillPos(depth int64, slot uint32) (StreamPosition, bool) {
	if depth < 0 || depth >= MaxBackfillDepth {
		return 0, false
	}
	return MinBackfillPos + StreamPosition(depth<<backfillSlotBits) + StreamPosition(slot&(1<<backfillSlotBits-1)), true
}
