package federationapi

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// newDeviceListUpdate records a remote user's device list stream ID and
// reports whether local users must be told their list changed. Axon
// keeps no copy of remote device lists (keys are fetched from the origin
// on each query), so a resync is the local clients' next query: telling
// them is all it takes. A first announcement of the whole list (sent
// when the user joined a room we share) is only recorded: the join
// already told local users to fetch the list, and telling them again
// would report a change that did not happen. A store failure errs on
// the side of telling them.
func (f *FederationAPI) newDeviceListUpdate(ctx context.Context, userID string, streamID int64, prevIDs []int64) bool {
	last, seen, err := f.store.RemoteDeviceStream(ctx, userID)
	if err != nil {
		f.base.Log.Warn("remote device list stream", "user_id", userID, "error", err)
		return true
	}
	step := matrixrules.DeviceListUpdateStep(last, seen, streamID, prevIDs)
	if step == matrixrules.DeviceListIgnore {
		return false
	}
	advanced, err := f.store.AdvanceRemoteDeviceStream(ctx, userID, streamID)
	if err != nil {
		f.base.Log.Warn("record remote device list stream", "user_id", userID, "error", err)
		return true
	}
	return advanced && step != matrixrules.DeviceListRecord
}
