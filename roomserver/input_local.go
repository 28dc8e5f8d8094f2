package roomserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/matrix-org/util"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// MaxEventBytes is the spec's limit on a PDU, signatures included.
const MaxEventBytes = matrixrules.MaxEventBytes

type txnKey struct{ user, device, room, txn string }

// sentTxn is a client transaction a batch sent (or found sent before).
// A batch holds at most a few dozen: a slice, searched in order, not a
// map (a map's first insert allocated ~0.8 KB per event into 50 rooms).
type sentTxn struct {
	key     txnKey
	eventID string
}

// processLocal builds, signs, auth-checks and stores a local event on top
// of the room's current head. Local events are never soft-failed: the
// state before them is the current state.
func (r *RoomServer) processLocal(ctx context.Context, b *batch, in *api.InputRoomEvent) (api.InputResult, error) {
	pre := b.prepared
	b.prepared = nil
	if pre == nil || pre.in != in {
		var err error
		if pre, err = r.prepareLocal(ctx, b, in); err != nil {
			return api.InputResult{}, err
		}
	}
	if pre.result != nil {
		return *pre.result, nil
	}
	ev, isCreate, key := pre.ev, pre.isCreate, pre.key
	if isCreate {
		if err := r.startNewRoom(ctx, b, ev); err != nil {
			return api.InputResult{}, err
		}
	}
	var claim *storage.TxnClaim
	if in.TransactionID != nil && !isCreate {
		// Claimed in the event's insert: a repeat the memory did not
		// know (sent long ago, or before a restart) is found there, and
		// the event built for it is dropped.
		claim = &storage.TxnClaim{UserID: key.user, DeviceID: key.device, RoomID: key.room, TxnID: key.txn}
	}
	_, first, err := r.commitClaimedEvent(ctx, b, ev, in, storage.StatusAccepted, b.snapNID, true, claim)
	if err != nil {
		return api.InputResult{}, err
	}
	if first != "" {
		b.txns = append(b.txns, sentTxn{key, first})
		return api.InputResult{EventID: matrixid.EventID(first), Duplicate: true}, nil
	}
	if claim != nil {
		b.txns = append(b.txns, sentTxn{key, ev.EventID()})
	}
	return api.InputResult{EventID: matrixid.EventID(ev.EventID())}, nil
}

// preparedLocal is a built, signed and auth-checked local event, or the
// reason it was refused (result).
type preparedLocal struct {
	in       *api.InputRoomEvent
	ev       gomatrixserverlib.PDU
	isCreate bool
	key      txnKey
	result   *api.InputResult
}

// prepareLocal does everything for a local event but write it: it needs
// no transaction, reading through b.q().
func (r *RoomServer) prepareLocal(ctx context.Context, b *batch, in *api.InputRoomEvent) (*preparedLocal, error) {
	pre := &preparedLocal{in: in}
	res, err := r.buildLocal(ctx, b, in, pre)
	if err != nil {
		return nil, err
	}
	if res != nil {
		pre.result = res
	}
	return pre, nil
}

func (r *RoomServer) buildLocal(ctx context.Context, b *batch, in *api.InputRoomEvent, pre *preparedLocal) (*api.InputResult, error) {
	rej := func(code api.ErrorCode, msg string) (*api.InputResult, error) {
		res := reject(code, msg)
		return &res, nil
	}
	le := in.Local
	isCreate := le.Type == spec.MRoomCreate && le.StateKey != nil && *le.StateKey == ""
	if isCreate && (!b.newRoom || b.rm.nid != 0) {
		return rej(api.CodeBadJSON, "the room already exists: m.room.create can only be sent once")
	}
	if !isCreate && b.rm.nid == 0 {
		return rej(api.CodeForbidden, "the room was not created")
	}
	if le.RoomID != "" && b.rm.id != "" && le.RoomID != matrixid.RoomID(b.rm.id) {
		return rej(api.CodeBadJSON, "events of one request must be in one room")
	}
	if msg := matrixrules.CheckLocalEvent(string(le.Type), le.StateKey, le.Content, string(le.Sender)); msg != "" {
		return rej(api.CodeBadJSON, msg)
	}
	if !isCreate {
		if refused, err := r.refusedByBlock(ctx, b.q(), b.rm.id, string(le.Type), le.Content); err != nil || refused {
			if err != nil {
				return nil, err
			}
			return rej(api.CodeForbidden, blockedMessage)
		}
	}
	if le.Type == matrixrules.MRoomServerACL && le.StateKey != nil && *le.StateKey == "" {
		if msg := matrixrules.CheckServerACLKeepsSelf(le.Content, r.serverName); msg != "" {
			return rej(api.CodeBadJSON, msg)
		}
	}

	var key txnKey
	if in.TransactionID != nil && !isCreate {
		key = txnKey{string(le.Sender), in.TransactionID.DeviceID, b.rm.id, in.TransactionID.TransactionID}
		if id, err := r.txnEvent(ctx, b, key); err != nil || id != "" {
			return &api.InputResult{EventID: matrixid.EventID(id), Duplicate: true}, err
		}
	}

	prev := b.extremities
	if prev == nil {
		prev = []string{}
	}
	proto := gomatrixserverlib.ProtoEvent{
		SenderID: string(le.Sender), RoomID: b.rm.id, Type: string(le.Type), StateKey: le.StateKey,
		Content: spec.RawJSON(le.Content), Redacts: string(le.Redacts),
		PrevEvents: prev, Depth: b.depth + 1,
	}
	if isCreate {
		ver, content, roomID, rejErr := r.prepareCreate(le)
		if rejErr != nil {
			return &api.InputResult{Err: rejErr}, nil
		}
		b.rm.version = ver
		proto.Content, proto.RoomID, proto.Depth = content, roomID, 1
	}
	if le.Type == spec.MRoomRedaction && le.Redacts != "" && !gjson.GetBytes(proto.Content, "redacts").Exists() && matrixrules.FeaturesOf(string(b.rm.version.Version())).RedactsInContent {
		proto.Content, _ = sjson.SetBytes(proto.Content, "redacts", le.Redacts)
	}
	proto.Version = b.rm.version

	needed, err := gomatrixserverlib.StateNeededForProtoEvent(&proto)
	if err != nil {
		return rej(api.CodeBadJSON, trimAuthErr(err))
	}
	authEvents, err := r.authProvider(ctx, b, needed.Tuples())
	if err != nil {
		return nil, err
	}
	if msg, err := checkCreatorsNotListed(b.rm.version, le, authEvents); err != nil || msg != "" {
		if err != nil {
			return nil, err
		}
		return rej(api.CodeBadJSON, msg)
	}
	builder := b.rm.version.NewEventBuilderFromProtoEvent(&proto)
	if err := builder.AddAuthEvents(authEvents); err != nil {
		return nil, err
	}
	ts := le.OriginServerTS
	if ts.IsZero() {
		ts = now()
	}
	ev, err := builder.Build(ts, r.serverName, r.keyID, r.key)
	for tries := 0; isCreate && err == nil && !r.parts.placeable(ev.RoomID().String()) && tries < maxPlacementTries; tries++ {
		ts = ts.Add(time.Millisecond) // a hash-named room lands in a partition held here (partition.go)
		ev, err = builder.Build(ts, r.serverName, r.keyID, r.key)
	}
	if err != nil {
		var verr gomatrixserverlib.EventValidationError
		if errors.As(err, &verr) && verr.Code == gomatrixserverlib.EventValidationTooLarge {
			return rej(api.CodeTooLarge, "event too large: "+verr.Message)
		}
		return rej(api.CodeBadJSON, "invalid event: "+err.Error())
	}
	if len(ev.JSON()) > MaxEventBytes {
		return rej(api.CodeTooLarge, fmt.Sprintf("event is %d bytes, over the %d limit", len(ev.JSON()), MaxEventBytes))
	}
	if isCreate {
		if err := authEvents.AddEvent(ev); err != nil {
			return nil, err
		}
	}
	if err := gomatrixserverlib.Allowed(ev, authEvents, userIDForSender); err != nil {
		return rej(api.CodeForbidden, trimAuthErr(err))
	}
	if ev.Type() == spec.MRoomRedaction {
		if msg, err := r.checkLocalRedaction(ctx, b, ev); err != nil || msg != "" {
			if err != nil {
				return nil, err
			}
			return rej(api.CodeForbidden, msg)
		}
	}
	pre.ev, pre.isCreate, pre.key = ev, isCreate, key
	return nil, nil
}

func reject(code api.ErrorCode, msg string) api.InputResult {
	return api.InputResult{Err: api.Errorf(code, msg)}
}

func trimAuthErr(err error) string {
	return strings.TrimPrefix(err.Error(), "eventauth: ")
}

// prepareCreate checks the room version and fills content.room_version
// (and creator for versions that still carry it). For versions with a
// server-named room ID, it picks a fresh ID; v12+ IDs come from the hash.
func (r *RoomServer) prepareCreate(le *api.LocalEvent) (gomatrixserverlib.IRoomVersion, spec.RawJSON, string, *api.Error) {
	verStr := le.RoomVersion
	if verStr == "" {
		verStr = gjson.GetBytes(le.Content, "room_version").Str
	}
	if verStr == "" {
		verStr = r.base.Cfg.Rooms.DefaultVersion
	}
	ver, err := matrixrules.Version(verStr)
	if err != nil {
		return nil, nil, "", api.Errorf(api.CodeVersion, fmt.Sprintf("room version %q is not supported", verStr))
	}
	if matrixrules.FeaturesOf(verStr).PrivilegedCreators {
		if msg := matrixrules.CheckAdditionalCreators(le.Content); msg != "" {
			return nil, nil, "", api.Errorf(api.CodeBadJSON, msg)
		}
	}
	content := []byte(le.Content)
	content, _ = sjson.SetBytes(content, "room_version", verStr)
	if ver.CreatorInCreateEvent() {
		content, _ = sjson.SetBytes(content, "creator", le.Sender)
	} else {
		content, _ = sjson.DeleteBytes(content, "creator")
	}
	roomID := ""
	if !ver.DomainlessRoomIDs() {
		roomID = "!" + util.RandomString(18) + ":" + string(r.serverName)
		for tries := 0; !r.parts.placeable(roomID) && tries < maxPlacementTries; tries++ {
			roomID = "!" + util.RandomString(18) + ":" + string(r.serverName) // partition.go
		}
	}
	return ver, content, roomID, nil
}

// startNewRoom inserts the room row once its create event is built.
func (r *RoomServer) startNewRoom(ctx context.Context, b *batch, create gomatrixserverlib.PDU) error {
	b.rm.id = create.RoomID().String()
	nid, err := r.db.InsertRoom(ctx, b.tx, b.rm.id, string(b.rm.version.Version()))
	if err != nil {
		return err
	}
	b.rm.nid = nid
	return nil
}

// txnEvent finds a previous send of the same client transaction.
func (r *RoomServer) txnEvent(ctx context.Context, b *batch, key txnKey) (string, error) {
	for _, t := range b.txns {
		if t.key == key {
			return t.eventID, nil
		}
	}
	if id, ok := r.txns.get(key); ok {
		return id, nil
	}
	// Older ones are found when the write claims the transaction
	// (processLocal), so no read is needed here.
	return "", nil
}

// preTxnCheck answers a repeated client transaction that committed
// recently (the common retry after a lost response) before the request
// takes a place in the room's queue. Older repeats are caught when the
// write claims the transaction: a read of the table here, for every
// send, cost more than building the rare repeat's event for nothing.
func (r *RoomServer) preTxnCheck(req *api.InputRoomEventsRequest) *api.InputRoomEventsResponse {
	if len(req.Events) != 1 || req.Events[0].Local == nil || req.Events[0].TransactionID == nil {
		return nil
	}
	le, txn := req.Events[0].Local, req.Events[0].TransactionID
	key := txnKey{string(le.Sender), txn.DeviceID, string(le.RoomID), txn.TransactionID}
	id, ok := r.txns.get(key)
	if !ok || id == "" {
		return nil
	}
	return &api.InputRoomEventsResponse{RoomID: le.RoomID, Results: []api.InputResult{{EventID: matrixid.EventID(id), Duplicate: true}}}
}

// checkLocalRedaction: a user may redact their own events, or others'
// with the redact power level (also enforced by auth rules in v1/v2).
func (r *RoomServer) checkLocalRedaction(ctx context.Context, b *batch, ev gomatrixserverlib.PDU) (string, error) {
	target := api.RedactsOf(ev)
	if target == "" {
		return "redaction without redacts", nil
	}
	evs, err := r.eventsByID(ctx, b.q(), b.rm.version, []string{target})
	if err != nil {
		return "", err
	}
	t := evs[target]
	if t == nil || t.roomNID != b.rm.nid {
		return "", nil // unknown target: the redaction is stored and applied if it arrives
	}
	if t.pdu.SenderID() == ev.SenderID() {
		return "", nil
	}
	pl, err := r.powerLevels(ctx, b)
	if err != nil {
		return "", err
	}
	if pl.UserLevel(string(ev.SenderID())) >= pl.Redact {
		return "", nil
	}
	return "You don't have permission to redact other users' events", nil
}

// powerLevels are the room's current power levels with its version's
// creators rule.
func (r *RoomServer) powerLevels(ctx context.Context, b *batch) (*matrixrules.PowerLevels, error) {
	create, err := r.currentPDU(ctx, b, storage.Tuple{EventType: spec.MRoomCreate})
	if err != nil {
		return nil, err
	}
	pl, err := r.currentPDU(ctx, b, storage.Tuple{EventType: spec.MRoomPowerLevels})
	if err != nil {
		return nil, err
	}
	room := matrixrules.Room{Version: string(b.rm.version.Version())}
	if create != nil {
		room.CreateSender, room.CreateContent = string(create.SenderID()), create.Content()
	}
	if pl != nil {
		room.PowerLevels = pl.Content()
	}
	return matrixrules.NewPowerLevels(room)
}

// checkCreatorsNotListed: in rooms with privileged creators (v12+), a
// power levels event must not list a creator. "" or the client's message.
func checkCreatorsNotListed(ver gomatrixserverlib.IRoomVersion, le *api.LocalEvent, authEvents *gomatrixserverlib.AuthEvents) (string, error) {
	if le.Type != spec.MRoomPowerLevels || le.StateKey == nil || *le.StateKey != "" || !ver.PrivilegedCreators() {
		return "", nil
	}
	create, err := authEvents.Create()
	if err != nil || create == nil {
		return "", err
	}
	return matrixrules.CheckPowerLevelsCreators(matrixrules.Creators(string(create.SenderID()), create.Content()), le.Content), nil
}
