package keyserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
)

// CrossSigningKeys implements api.KeyserverAPI.
func (k *Keyserver) CrossSigningKeys(ctx context.Context, userID matrixid.UserID) (*api.CrossSigningKeys, error) {
	keys, err := k.db.CrossSigningKeys(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	return &api.CrossSigningKeys{Master: keys[storage.KeyMaster], SelfSigning: keys[storage.KeySelfSigning], UserSigning: keys[storage.KeyUserSigning]}, nil
}

// UploadCrossSigningKeys implements api.KeyserverAPI.
func (k *Keyserver) UploadCrossSigningKeys(ctx context.Context, userID matrixid.UserID, in *api.CrossSigningKeys) error {
	defer k.lockUser(string(userID)).Unlock()
	given := map[string]json.RawMessage{}
	for typ, js := range map[string]json.RawMessage{storage.KeyMaster: in.Master, storage.KeySelfSigning: in.SelfSigning, storage.KeyUserSigning: in.UserSigning} {
		if len(js) > 0 && string(js) != "null" {
			given[typ] = js
		}
	}
	if len(given) == 0 {
		return nil
	}
	stored, err := k.db.CrossSigningKeys(ctx, string(userID))
	if err != nil {
		return err
	}
	master := given[storage.KeyMaster]
	if master == nil {
		master = stored[storage.KeyMaster]
	}
	if master == nil {
		return api.ErrMissingMasterKey
	}
	mo, err := k.checkCrossSigningKey(master, string(userID), storage.KeyMaster)
	if err != nil {
		return err
	}
	masterPub, _ := mo.crossSigningPublic()
	devices, err := k.users.QueryDevices(ctx, userID)
	if err != nil {
		return err
	}
	for typ, js := range given {
		o, err := k.checkCrossSigningKey(js, string(userID), typ)
		if err != nil {
			return err
		}
		pub, _ := o.crossSigningPublic()
		for _, d := range devices {
			if d.DeviceID == pub {
				return fmt.Errorf("%w: key %s is the ID of a device", api.ErrKeyInUse, pub)
			}
		}
		if typ != storage.KeyMaster {
			if err := verify(js, string(userID), "ed25519:"+masterPub, masterPub); err != nil {
				return fmt.Errorf("%w: %s key: %v", api.ErrInvalidSignature, typ, err)
			}
		}
	}
	return k.commit(ctx, func(tx *istorage.Tx) ([]api.DeviceListUpdate, error) {
		streamID, err := k.db.StoreCrossSigningKeys(ctx, tx, string(userID), given)
		return []api.DeviceListUpdate{{UserID: string(userID), StreamID: streamID,
			MasterKey: given[storage.KeyMaster], SelfSigningKey: given[storage.KeySelfSigning]}}, err
	})
}

// checkCrossSigningKey validates the shape of one cross-signing key.
func (k *Keyserver) checkCrossSigningKey(js json.RawMessage, userID, typ string) (*keyObject, error) {
	o, err := parseKeyObject(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %s key: %v", api.ErrInvalidKeys, typ, err)
	}
	if o.UserID != userID {
		return nil, fmt.Errorf("%w: %s key must have user_id %s", api.ErrInvalidKeys, typ, userID)
	}
	if !slices.Contains(o.Usage, typ) {
		return nil, fmt.Errorf("%w: %s key must have usage %q", api.ErrInvalidKeys, typ, typ)
	}
	if _, err := o.crossSigningPublic(); err != nil {
		return nil, fmt.Errorf("%w: %s key: %v", api.ErrInvalidKeys, typ, err)
	}
	return o, nil
}

// UploadSignatures implements api.KeyserverAPI. Three kinds are
// accepted, as the spec describes: the user's self-signing key on their
// own devices, the user's devices on their own master key, and the
// user's user-signing key on another user's master key.
func (k *Keyserver) UploadSignatures(ctx context.Context, userID matrixid.UserID, signed map[string]map[string]json.RawMessage) (map[string]map[string]*api.KeyError, error) {
	failures := map[string]map[string]*api.KeyError{}
	fail := func(target, keyID, code, msg string) {
		if failures[target] == nil {
			failures[target] = map[string]*api.KeyError{}
		}
		failures[target][keyID] = &api.KeyError{ErrCode: code, Err: msg}
	}
	own, err := k.db.CrossSigningKeys(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	ownDevices, err := k.db.DeviceKeys(ctx, string(userID))
	if err != nil {
		return nil, err
	}
	var sigs []storage.Signature
	for target, byKey := range signed {
		var targetDevices map[string]json.RawMessage
		var targetCS map[string]json.RawMessage
		if matrixid.UserID(target) == userID {
			targetDevices, targetCS = ownDevices, own
		} else if k.isLocal(target) {
			if targetCS, err = k.db.CrossSigningKeys(ctx, target); err != nil {
				return nil, err
			}
		}
		for keyID, obj := range byKey {
			stored, signers := k.signatureTarget(string(userID), target, keyID, targetDevices, targetCS, own, ownDevices)
			if stored == nil {
				fail(target, keyID, "M_NOT_FOUND", "Unknown key or not signable by you")
				continue
			}
			if !sameKey(obj, stored) {
				fail(target, keyID, "M_INVALID_SIGNATURE", "The signed object does not match the stored key")
				continue
			}
			var added int
			for signerKeyID, pub := range signers {
				if verify(obj, string(userID), signerKeyID, pub) != nil {
					continue
				}
				o, _ := parseKeyObject(obj)
				sigs = append(sigs, storage.Signature{OriginUserID: string(userID), OriginKeyID: signerKeyID, TargetUserID: target,
					TargetKeyID: keyID, Signature: o.Signatures[string(userID)][signerKeyID]})
				added++
			}
			if added == 0 {
				fail(target, keyID, "M_INVALID_SIGNATURE", "No valid signature from a key of yours that may sign this key")
			}
		}
	}
	if len(sigs) == 0 {
		return failures, nil
	}
	targets := make([]string, 0, len(sigs))
	for _, s := range sigs {
		targets = append(targets, s.TargetUserID)
	}
	defer k.lockUsers(targets)()
	err = k.commit(ctx, func(tx *istorage.Tx) ([]api.DeviceListUpdate, error) {
		streams, err := k.db.StoreSignatures(ctx, tx, sigs)
		if err != nil {
			return nil, err
		}
		var updates []api.DeviceListUpdate
		for u, id := range streams {
			if k.isLocal(u) {
				updates = append(updates, api.DeviceListUpdate{UserID: u, StreamID: id})
			}
		}
		return updates, nil
	})
	if err != nil {
		return nil, err
	}
	return failures, nil
}

// signatureTarget finds the stored key a signature upload names, and the
// signer's keys allowed to sign it (key ID → public key).
func (k *Keyserver) signatureTarget(userID, target, keyID string, targetDevices, targetCS, own, ownDevices map[string]json.RawMessage) (json.RawMessage, map[string]string) {
	pubOf := func(js json.RawMessage) string {
		if o, err := parseKeyObject(js); err == nil {
			pub, _ := o.crossSigningPublic()
			return pub
		}
		return ""
	}
	if target == userID {
		if dev, ok := targetDevices[keyID]; ok { // own device, signed by self-signing key
			if ssk := pubOf(own[storage.KeySelfSigning]); ssk != "" {
				return dev, map[string]string{"ed25519:" + ssk: ssk}
			}
			return nil, nil
		}
		if m := own[storage.KeyMaster]; m != nil && pubOf(m) == keyID { // own master, signed by devices
			signers := map[string]string{}
			for id, js := range ownDevices {
				if o, err := parseKeyObject(js); err == nil {
					if pub, ok := o.ed25519Key(id); ok {
						signers["ed25519:"+id] = pub
					}
				}
			}
			return m, signers
		}
		return nil, nil
	}
	if m := targetCS[storage.KeyMaster]; m != nil && pubOf(m) == keyID { // another's master, by user-signing key
		if usk := pubOf(own[storage.KeyUserSigning]); usk != "" {
			return m, map[string]string{"ed25519:" + usk: usk}
		}
	}
	return nil, nil
}
