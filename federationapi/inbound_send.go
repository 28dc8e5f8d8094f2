package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
	"golang.org/x/sync/singleflight"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// pduResult is one entry of the /send response.
type pduResult struct {
	Error string `json:"error,omitempty"`
}

// txnProcessor handles inbound transactions: signature and hash checks,
// then the roomserver's input path. A repeated (origin, txnId) gets the
// first answer without reprocessing, whichever federationapi process it
// reaches: answers are remembered in the database (rememberTxnsFor).
type txnProcessor struct {
	f *FederationAPI

	inflight  singleflight.Group
	lastPrune atomic.Int64 // Unix ms
}

const (
	// rememberTxnsFor is how long answered transactions are kept for
	// retries: senders retry a transaction until it is answered, backing
	// off to about an hour.
	rememberTxnsFor = time.Hour
	// txnClaimTimeout: a transaction claimed this long ago and not
	// answered (its process died) is processed by the next attempt.
	txnClaimTimeout = 2 * time.Minute
	// pruneEvery is how often a process forgets old transactions.
	pruneEvery = time.Minute
)

// sendTransaction serves /send/{txnID} with p.
func (f *FederationAPI) sendTransaction(p *txnProcessor) FedHandler {
	return func(req *FedRequest) httputil.JSONResponse {
		txn, errResp := parseTransaction(req.Content)
		if errResp != nil {
			return *errResp
		}
		if txn.Origin != "" && spec.ServerName(txn.Origin) != req.Origin {
			return httputil.Forbidden("Transaction origin does not match the signing server")
		}
		if txn.Refused > 0 {
			f.base.Log.Warn("dropped PDUs/EDUs with NUL, invalid UTF-8 or over-deep JSON", "origin", req.Origin, "count", txn.Refused)
		}
		return p.process(req.Context(), req.Origin, req.PathValue("txnID"), txn)
	}
}

func (p *txnProcessor) process(ctx context.Context, origin spec.ServerName, txnID string, txn *inboundTxn) httputil.JSONResponse {
	v, _, _ := p.inflight.Do(string(origin)+"\x00"+txnID, func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		now := time.Now()
		stored, claimed, err := p.f.store.ClaimInboundTxn(ctx, string(origin), txnID, now.UnixMilli(), now.Add(-txnClaimTimeout).UnixMilli())
		if err != nil {
			return p.f.internal("remember inbound transaction", err), nil
		}
		if !claimed {
			var r map[string]pduResult
			if stored == nil || json.Unmarshal(stored, &r) != nil {
				return txnInProgress(), nil
			}
			return httputil.OK(map[string]any{"pdus": r}), nil
		}
		r := p.processPDUs(ctx, origin, txn.PDUs)
		p.f.processEDUs(ctx, origin, txn.EDUs)
		if body, err := json.Marshal(r); err == nil {
			err = p.f.store.AnswerInboundTxn(ctx, string(origin), txnID, body)
			if err != nil {
				p.f.base.Log.Warn("remember inbound transaction answer", "origin", origin, "txn_id", txnID, "error", err)
			}
		}
		p.prune(ctx, now)
		return httputil.OK(map[string]any{"pdus": r}), nil
	})
	return v.(httputil.JSONResponse)
}

// prune forgets transactions older than rememberTxnsFor, at most once
// per pruneEvery in this process.
func (p *txnProcessor) prune(ctx context.Context, now time.Time) {
	last := p.lastPrune.Load()
	if now.UnixMilli()-last < pruneEvery.Milliseconds() || !p.lastPrune.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	if err := p.f.store.ForgetInboundTxns(ctx, now.Add(-rememberTxnsFor).UnixMilli()); err != nil {
		p.f.base.Log.Warn("forget old inbound transactions", "error", err)
	}
}

// processPDUs checks every PDU (server ACL, signatures, hashes) and
// inputs the good ones, room by room in transaction order, fetching
// what is missing for any the roomserver cannot place. PDUs for rooms we
// do not know, or that cannot be parsed at all, have no event ID we
// could report and are dropped.
func (p *txnProcessor) processPDUs(ctx context.Context, origin spec.ServerName, pdus []json.RawMessage) map[string]pduResult {
	results := map[string]pduResult{}
	byRoom := map[string][]gomatrixserverlib.PDU{}
	var roomOrder []string
	denied := map[string]bool{}
	var allowed []gomatrixserverlib.PDU
	for _, raw := range pdus {
		pdu, err := p.parsePDU(ctx, raw)
		if err != nil {
			p.f.base.Log.Warn("dropping unparseable PDU", "origin", origin, "error", err)
			continue
		}
		roomID := pdu.RoomID().String()
		if _, checked := denied[roomID]; !checked {
			denied[roomID] = p.f.aclDenies(ctx, roomID, origin)
		}
		if denied[roomID] {
			results[pdu.EventID()] = pduResult{Error: "the room's server ACL denies " + string(origin)}
			continue
		}
		allowed = append(allowed, pdu)
	}
	// Signatures are checked on every core at once, then the PDUs go on
	// in transaction order.
	sigErrs := gomatrixserverlib.VerifyAllEventSignatures(ctx, allowed, p.f.ring, userIDForSender)
	for i, pdu := range allowed {
		roomID := pdu.RoomID().String()
		if err := sigErrs[i]; err != nil {
			results[pdu.EventID()] = pduResult{Error: "signature check failed: " + err.Error()}
			continue
		}
		if p.f.retiresOutOfBandInvite(ctx, pdu) {
			res := p.f.inputPDUs(ctx, rsapi.KindOutOfBand, []gomatrixserverlib.PDU{pdu})[0]
			results[pdu.EventID()] = pduResult{}
			if res.Err != nil {
				results[pdu.EventID()] = pduResult{Error: res.Err.Error()}
			}
			continue
		}
		if _, ok := byRoom[roomID]; !ok {
			roomOrder = append(roomOrder, roomID)
		}
		byRoom[roomID] = append(byRoom[roomID], pdu)
	}
	// Rooms are independent DAGs: each room's PDUs go in order, the
	// rooms side by side (their commits can share one on SQLite, and run
	// at once on PostgreSQL).
	var mu sync.Mutex
	var wg sync.WaitGroup
	var panicked any // re-raised here, where the router answers it
	slots := make(chan struct{}, maxRoomsAtOnce)
	for _, roomID := range roomOrder {
		events := byRoom[roomID]
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					panicked = v
					mu.Unlock()
				}
				<-slots
				wg.Done()
			}()
			res := p.f.inputPDUs(ctx, rsapi.KindNew, events)
			for i, e := range events {
				r := res[i]
				if needsFetch(r) {
					r = p.f.fillGapAndRetry(ctx, origin, e, r)
				}
				mu.Lock()
				if r.Err != nil {
					results[e.EventID()] = pduResult{Error: r.Err.Error()}
				} else {
					results[e.EventID()] = pduResult{}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return results
}

// maxRoomsAtOnce bounds the rooms of one transaction input at once.
const maxRoomsAtOnce = 8

// parsePDU reads a PDU in its room's version. A content hash mismatch
// makes gomatrixserverlib redact the event, as the spec requires.
func (p *txnProcessor) parsePDU(ctx context.Context, raw json.RawMessage) (gomatrixserverlib.PDU, error) {
	// Only the room ID is read here (the roomserver checks that the
	// parsed event is for the room whose version parsed it).
	roomID := gjson.GetBytes(raw, "room_id")
	if roomID.Type != gjson.String {
		return nil, errors.New("PDU has no room_id")
	}
	version, err := p.f.rooms.QueryRoomVersion(ctx, matrixid.RoomID(roomID.Str))
	if err != nil {
		return nil, err
	}
	verImpl, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(version))
	if err != nil {
		return nil, err
	}
	return verImpl.NewEventFromUntrustedJSON(raw)
}

// userIDForSender: in the room versions we support, the sender is the
// user ID itself.
func userIDForSender(_ spec.RoomID, senderID spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(senderID), true)
}

// retiresOutOfBandInvite: is pdu a leave or ban of one of our users whose
// invite (or knock) we hold out of band, for a room we are not in (the
// inviter rescinding it)? Such an event cannot be placed in a DAG we do
// not have; it is stored out of band so the user's clients see the
// invite go. Only the inviter's own leave counts.
func (f *FederationAPI) retiresOutOfBandInvite(ctx context.Context, pdu gomatrixserverlib.PDU) bool {
	if pdu.Type() != spec.MRoomMember || pdu.StateKey() == nil || domainOf(*pdu.StateKey()) != f.id.ServerName {
		return false
	}
	if m, _ := pdu.Membership(); m != spec.Leave && m != spec.Ban {
		return false
	}
	roomID := pdu.RoomID().String()
	if in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(roomID), string(f.id.ServerName)); err != nil || in {
		return false
	}
	cur, eventID, err := f.rooms.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(*pdu.StateKey()))
	if err != nil || (cur != spec.Invite && cur != spec.Knock) {
		return false
	}
	// Only the inviter may rescind an invite: we cannot check anyone
	// else's power without the room.
	evs, err := f.rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(string(eventID))})
	return err == nil && len(evs) == 1 && evs[0].SenderID() == pdu.SenderID()
}
