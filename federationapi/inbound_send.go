package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

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
// first answer without reprocessing.
type txnProcessor struct {
	f *FederationAPI

	inflight singleflight.Group
	// shared, with components in several processes, remembers answers
	// across federationapi processes (inbound_txns_shared.go).
	shared *sharedTxns
	mu     sync.Mutex
	done   map[string]map[string]pduResult
	order  []string
}

// recentTxns is how many answered transactions are remembered for retries.
const recentTxns = 1024

// sendTransaction serves /send/{txnID} with p, which remembers the
// transactions being processed.
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
		results := p.process(req.Context(), req.Origin, req.PathValue("txnID"), txn)
		return httputil.OK(map[string]any{"pdus": results})
	}
}

func (p *txnProcessor) process(ctx context.Context, origin spec.ServerName, txnID string, txn *inboundTxn) map[string]pduResult {
	key := string(origin) + "\x00" + txnID
	p.mu.Lock()
	if r, ok := p.done[key]; ok {
		p.mu.Unlock()
		return r
	}
	p.mu.Unlock()
	v, _, _ := p.inflight.Do(key, func() (any, error) {
		if p.shared != nil {
			r, mine, err := p.shared.begin(ctx, key)
			if err != nil {
				p.f.base.Log.Warn("shared inbound transactions unavailable; processing here", "error", err)
			}
			if !mine {
				return r, nil
			}
		}
		ctx := context.WithoutCancel(ctx)
		r := p.processPDUs(ctx, origin, txn.PDUs)
		p.f.processEDUs(ctx, origin, txn.EDUs)
		p.remember(key, r)
		if p.shared != nil {
			if err := p.shared.finish(ctx, key, r); err != nil {
				p.f.base.Log.Warn("store the answer of an inbound transaction", "error", err)
			}
		}
		return r, nil
	})
	return v.(map[string]pduResult)
}

func (p *txnProcessor) remember(key string, r map[string]pduResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		p.done = map[string]map[string]pduResult{}
	}
	p.done[key] = r
	p.order = append(p.order, key)
	if len(p.order) > recentTxns {
		delete(p.done, p.order[0])
		p.order = p.order[1:]
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
	for _, roomID := range roomOrder {
		events := byRoom[roomID]
		res := p.f.inputPDUs(ctx, rsapi.KindNew, events)
		for i, e := range events {
			r := res[i]
			if needsFetch(r) {
				r = p.f.fillGapAndRetry(ctx, origin, e, r)
			}
			if r.Err != nil {
				results[e.EventID()] = pduResult{Error: r.Err.Error()}
			} else {
				results[e.EventID()] = pduResult{}
			}
		}
	}
	return results
}

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
