package matrixrules

// DeviceListStep is what a server does with a remote user's
// m.device_list_update, given the stream IDs it has applied for them.
type DeviceListStep int

const (
	// DeviceListIgnore: a duplicate or superseded update.
	DeviceListIgnore DeviceListStep = iota
	// DeviceListRecord: the list as a whole, first seen (a server
	// announcing a user who joined a room we share): its stream ID is
	// recorded; local users were told of the user by the join itself.
	DeviceListRecord
	// DeviceListApply: the update follows one already applied.
	DeviceListApply
	// DeviceListResync: an update whose prev_id is unknown: updates were
	// missed, so the whole list must be fetched again.
	DeviceListResync
)

// DeviceListUpdateStep applies the spec's rule (Server-Server API,
// Device Management): an update whose prev_id names stream IDs not seen
// means the list must be resynced; one with no prev_id and none seen
// starts the list; one at or below the last seen is a duplicate.
// Senders number a user's first change 1 with prev_id [0] (see
// keyserver), so an empty prev_id is only ever a whole-list announcement.
func DeviceListUpdateStep(last int64, seen bool, streamID int64, prevIDs []int64) DeviceListStep {
	if seen && streamID <= last {
		return DeviceListIgnore
	}
	if len(prevIDs) == 0 {
		if seen {
			return DeviceListApply
		}
		return DeviceListRecord
	}
	if !seen {
		return DeviceListResync
	}
	for _, p := range prevIDs {
		if p > last {
			return DeviceListResync
		}
	}
	return DeviceListApply
}
