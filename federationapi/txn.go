package federationapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/jsontext"
)

// Spec limits on one inbound transaction.
const (
	maxTxnPDUs = 50
	maxTxnEDUs = 100
)

// inboundTxn is the body of PUT /_matrix/federation/v1/send/{txnId}.
type inboundTxn struct {
	Origin         string            `json:"origin"`
	OriginServerTS int64             `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []inboundEDU      `json:"edus"`
	// Refused counts the PDUs and EDUs dropped by the text rule.
	Refused int `json:"-"`
}

type inboundEDU struct {
	Type    string          `json:"edu_type"`
	Content json.RawMessage `json:"content"`
}

// parseTransaction decodes and bounds a transaction body. It never panics
// on any input (see FuzzParseTransaction).
func parseTransaction(body []byte) (*inboundTxn, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (*inboundTxn, *httputil.JSONResponse) { return nil, &r }
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fail(httputil.NotJSON("Transaction body is not a JSON object"))
	}
	// Unmarshal checks the whole body is JSON before it decodes anything
	// (no json.Valid pass first: that was one more scan of every PDU).
	var txn inboundTxn
	if err := json.Unmarshal(trimmed, &txn); err != nil {
		if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
			return fail(httputil.NotJSON("Transaction body is not a JSON object"))
		}
		return fail(httputil.BadJSON("Malformed transaction: %v", err))
	}
	if len(txn.PDUs) > maxTxnPDUs {
		return fail(httputil.Error(http.StatusBadRequest, "M_BAD_JSON", "Transaction has %d PDUs; at most %d allowed", len(txn.PDUs), maxTxnPDUs))
	}
	if len(txn.EDUs) > maxTxnEDUs {
		return fail(httputil.Error(http.StatusBadRequest, "M_BAD_JSON", "Transaction has %d EDUs; at most %d allowed", len(txn.EDUs), maxTxnEDUs))
	}
	for _, p := range txn.PDUs {
		if t := bytes.TrimSpace(p); len(t) == 0 || t[0] != '{' {
			return fail(httputil.BadJSON("Every PDU must be a JSON object"))
		}
	}
	// PDUs and EDUs the input text rule refuses are dropped one by one
	// (refusing the transaction would make the sender retry it forever,
	// holding back everything else it has for us).
	n := len(txn.PDUs) + len(txn.EDUs)
	txn.PDUs = slices.DeleteFunc(txn.PDUs, func(p json.RawMessage) bool { return jsontext.Check(p) != nil })
	txn.EDUs = slices.DeleteFunc(txn.EDUs, func(e inboundEDU) bool {
		return jsontext.CheckString(e.Type) != nil || jsontext.Check(e.Content) != nil
	})
	txn.Refused = n - len(txn.PDUs) - len(txn.EDUs)
	return &txn, nil
}
