package keys

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// NotaryQuery answers /_matrix/key/v2/query: for each server, its latest
// self-signed key response (fetched afresh when the stored one is not
// valid until the asked-for time), countersigned by us. Servers we can
// get no keys for are left out, as the spec allows.
func (r *Ring) NotaryQuery(ctx context.Context, criteria map[spec.ServerName]map[gomatrixserverlib.KeyID]gomatrixserverlib.PublicKeyNotaryQueryCriteria) []json.RawMessage {
	out := []json.RawMessage{}
	now := r.now()
	for server, keyCriteria := range criteria {
		if server == r.id.ServerName {
			if own, err := r.id.ServerKeys(now); err == nil {
				out = append(out, own)
			}
			continue
		}
		minValid := spec.AsTimestamp(now)
		for _, c := range keyCriteria {
			minValid = max(minValid, c.MinimumValidUntilTS)
		}
		stored, err := r.store.KeyResponse(ctx, string(server))
		if err != nil && !errors.Is(err, istorage.ErrNotFound) {
			continue
		}
		if stored == nil || spec.Timestamp(stored.ValidUntilTS) < minValid {
			if keys, err := r.direct.fetch(ctx, server); err == nil {
				out = r.appendSigned(out, keys.Raw)
				continue
			}
		}
		if stored != nil {
			out = r.appendSigned(out, stored.Response)
		}
	}
	return out
}

func (r *Ring) appendSigned(out []json.RawMessage, raw []byte) []json.RawMessage {
	signed, err := r.id.Sign(raw)
	if err != nil {
		return out
	}
	return append(out, signed)
}
