package storage

import (
	"context"
	"database/sql"
	"errors"

	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// FetchKeys returns the stored keys among requests (it implements the
// read half of gomatrixserverlib.KeyDatabase).
func (s *DB) FetchKeys(ctx context.Context, requests map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp) (map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult, error) {
	out := map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult{}
	for req := range requests {
		var key string
		var validUntil, expired int64
		err := s.DB.QueryRowContext(ctx, `SELECT public_key, valid_until_ts, expired_ts FROM federationapi_server_keys
			WHERE server_name = $1 AND key_id = $2`, string(req.ServerName), string(req.KeyID)).Scan(&key, &validUntil, &expired)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var b spec.Base64Bytes
		if err := b.Decode(key); err != nil {
			continue // a corrupt row is as good as a missing one: refetch
		}
		out[req] = gomatrixserverlib.PublicKeyLookupResult{
			VerifyKey:    gomatrixserverlib.VerifyKey{Key: b},
			ValidUntilTS: spec.Timestamp(validUntil),
			ExpiredTS:    spec.Timestamp(expired),
		}
	}
	return out, nil
}

// StoreKeys upserts keys, never replacing a key with one that is valid for
// less long (a stale copy from a notary must not shorten a fresh one).
func (s *DB) StoreKeys(ctx context.Context, results map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		for req, res := range results {
			_, err := tx.ExecContext(ctx, `INSERT INTO federationapi_server_keys (server_name, key_id, public_key, valid_until_ts, expired_ts)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (server_name, key_id) DO UPDATE SET public_key = excluded.public_key,
					valid_until_ts = excluded.valid_until_ts, expired_ts = excluded.expired_ts
				WHERE excluded.expired_ts <> 0 OR excluded.valid_until_ts >= federationapi_server_keys.valid_until_ts`,
				string(req.ServerName), string(req.KeyID), res.Key.Encode(), int64(res.ValidUntilTS), int64(res.ExpiredTS))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// KeyResponse is a server's own signed /key/v2/server answer, kept so this
// server can act as a notary for it.
type KeyResponse struct {
	ServerName   string
	Response     []byte
	ValidUntilTS int64
	FetchedTS    int64
}

// StoreKeyResponse keeps the newest response for a server.
func (s *DB) StoreKeyResponse(ctx context.Context, r KeyResponse) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO federationapi_key_responses (server_name, response, valid_until_ts, fetched_ts)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (server_name) DO UPDATE SET response = excluded.response,
			valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts
		WHERE excluded.valid_until_ts >= federationapi_key_responses.valid_until_ts`,
		r.ServerName, string(r.Response), r.ValidUntilTS, r.FetchedTS)
	return err
}

// KeyResponse returns the stored response for serverName, or
// storage.ErrNotFound.
func (s *DB) KeyResponse(ctx context.Context, serverName string) (*KeyResponse, error) {
	r := KeyResponse{ServerName: serverName}
	var body string
	err := s.DB.QueryRowContext(ctx, `SELECT response, valid_until_ts, fetched_ts FROM federationapi_key_responses WHERE server_name = $1`,
		serverName).Scan(&body, &r.ValidUntilTS, &r.FetchedTS)
	if err != nil {
		return nil, istorage.NotFound(err)
	}
	r.Response = []byte(body)
	return &r, nil
}
