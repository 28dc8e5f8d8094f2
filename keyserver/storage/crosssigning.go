package storage

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/storage"
)

// Cross-signing key types (keyserver_cross_signing_keys.key_type).
const (
	KeyMaster      = "master"
	KeySelfSigning = "self_signing"
	KeyUserSigning = "user_signing"
)

// CrossSigningKeys returns userID's keys by key type.
func (d *DB) CrossSigningKeys(ctx context.Context, userID string) (map[string]json.RawMessage, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT key_type, key_json FROM keyserver_cross_signing_keys WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]json.RawMessage{}
	for rows.Next() {
		var t, js string
		if err := rows.Scan(&t, &js); err != nil {
			return nil, err
		}
		out[t] = json.RawMessage(js)
	}
	return out, rows.Err()
}

// StoreCrossSigningKeys replaces the given keys (key type → key) inside
// tx and returns the user's new device list stream ID. A new master key
// invalidates every signature made on the user's keys by others' old
// user-signing keys, which is the client's business to redo; stored
// signatures by the user on their own keys are dropped with it.
func (d *DB) StoreCrossSigningKeys(ctx context.Context, tx *storage.Tx, userID string, keys map[string]json.RawMessage) (int64, error) {
	for t, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_cross_signing_keys (user_id, key_type, key_json) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json`, userID, t, string(k)); err != nil {
			return 0, err
		}
	}
	if _, ok := keys[KeyMaster]; ok {
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyserver_cross_signing_sigs WHERE origin_user_id = $1 AND target_user_id = $1`, userID); err != nil {
			return 0, err
		}
	}
	return d.bumpStream(ctx, tx, userID)
}

// Signature is one stored signature: origin's key OriginKeyID (e.g.
// "ed25519:<pubkey>") signed target's key TargetKeyID (a device ID or a
// cross-signing public key).
type Signature struct {
	OriginUserID string
	OriginKeyID  string
	TargetUserID string
	TargetKeyID  string
	Signature    string
}

// StoreSignatures adds sigs inside tx and returns the new device list
// stream ID of every target user.
func (d *DB) StoreSignatures(ctx context.Context, tx *storage.Tx, sigs []Signature) (map[string]int64, error) {
	streams := map[string]int64{}
	for _, s := range sigs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyserver_cross_signing_sigs
			(origin_user_id, origin_key_id, target_user_id, target_key_id, signature) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (target_user_id, target_key_id, origin_user_id, origin_key_id) DO UPDATE SET signature = excluded.signature`,
			s.OriginUserID, s.OriginKeyID, s.TargetUserID, s.TargetKeyID, s.Signature); err != nil {
			return nil, err
		}
		streams[s.TargetUserID] = 0
	}
	for u := range streams {
		id, err := d.bumpStream(ctx, tx, u)
		if err != nil {
			return nil, err
		}
		streams[u] = id
	}
	return streams, nil
}

// Signatures returns the stored signatures on targetUserID's keys.
func (d *DB) Signatures(ctx context.Context, targetUserID string) ([]Signature, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT origin_user_id, origin_key_id, target_key_id, signature
		FROM keyserver_cross_signing_sigs WHERE target_user_id = $1`, targetUserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Signature
	for rows.Next() {
		s := Signature{TargetUserID: targetUserID}
		if err := rows.Scan(&s.OriginUserID, &s.OriginKeyID, &s.TargetKeyID, &s.Signature); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
