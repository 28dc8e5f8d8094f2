package federationapi

import (
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/jsontext"
)

// FuzzParseTransaction: any body gives either a transaction within the
// limits or a 4xx, never a panic. The seed corpus runs under go test.
func FuzzParseTransaction(f *testing.F) {
	seeds := []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"pdus":[]}`, `{"pdus":null,"edus":null}`,
		`{"origin":"a.org","origin_server_ts":1,"pdus":[{"type":"m.room.message"}],"edus":[{"edu_type":"m.typing","content":{}}]}`,
		`{"pdus":[1,2]}`, `{"pdus":{}}`, `{"edus":[{"edu_type":5}]}`, `{"pdus":[` + strings.Repeat(`{},`, 50) + `{}]}`,
		`{"edus":[` + strings.Repeat(`{},`, 100) + `{}]}`, `{"pdus":[{}]`, "{\"pdus\":[\"\xff\"]}",
		// NUL bytes, invalid UTF-8, deep nesting, huge arrays.
		`{"pdus":[{"room_id":"!a\u0000:x"}],"edus":[{"edu_type":"m.typing","content":{"room_id":"\u0000"}}]}`,
		"{\"pdus\":[{\"content\":{\"body\":\"\xff\xfe\"}}]}", `{"edus":[{"edu_type":"m\u0000","content":{}}]}`,
		`{"pdus":[{"content":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}]}`,
		`{"pdus":[{"prev_events":[` + strings.Repeat(`"$x",`, 10000) + `"$y"]}]}`,
		`{"edus":[{"edu_type":"m.receipt","content":` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		txn, resp := parseTransaction(body)
		if resp != nil {
			if resp.Code < 400 || resp.Code >= 500 {
				t.Fatalf("error with status %d", resp.Code)
			}
			return
		}
		if len(txn.PDUs) > maxTxnPDUs || len(txn.EDUs) > maxTxnEDUs {
			t.Fatalf("over limits accepted: %d PDUs %d EDUs", len(txn.PDUs), len(txn.EDUs))
		}
		for _, p := range txn.PDUs {
			if jsontext.Check(p) != nil {
				t.Fatalf("PDU the text rule refuses kept: %q", p)
			}
		}
		for _, e := range txn.EDUs {
			if jsontext.Check(e.Content) != nil || jsontext.CheckString(e.Type) != nil {
				t.Fatalf("EDU the text rule refuses kept: %q", e.Content)
			}
		}
	})
}

func TestParseTransactionLimits(t *testing.T) {
	ok := `{"origin":"a.org","pdus":[` + strings.Repeat(`{},`, 49) + `{}],"edus":[` + strings.Repeat(`{},`, 99) + `{}]}`
	if _, resp := parseTransaction([]byte(ok)); resp != nil {
		t.Fatalf("50 PDUs + 100 EDUs rejected: %+v", resp.JSON)
	}
	for name, body := range map[string]string{
		"51 PDUs":  `{"pdus":[` + strings.Repeat(`{},`, 50) + `{}]}`,
		"101 EDUs": `{"edus":[` + strings.Repeat(`{},`, 100) + `{}]}`,
		"not json": `{"pdus":`,
		"array":    `[]`,
		"bad pdus": `{"pdus":"x"}`,
		"pdu num":  `{"pdus":[1]}`,
	} {
		if _, resp := parseTransaction([]byte(body)); resp == nil || resp.Code != 400 {
			t.Errorf("%s: want 400, got %+v", name, resp)
		}
	}
}

// TestParseTransactionDropsUnstorableItems: one PDU or EDU with a NUL or
// nested too deeply is dropped; the rest of the transaction goes through.
func TestParseTransactionDropsUnstorableItems(t *testing.T) {
	body := `{"pdus":[{"room_id":"!a:x"},{"room_id":"!a\u0000:x"},{"content":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}],` +
		`"edus":[{"edu_type":"m.typing","content":{"room_id":"!a:x"}},{"edu_type":"m.typing","content":{"room_id":"\u0000"}}]}`
	txn, resp := parseTransaction([]byte(body))
	if resp != nil {
		t.Fatalf("transaction refused: %+v", resp.JSON)
	}
	if len(txn.PDUs) != 1 || len(txn.EDUs) != 1 || txn.Refused != 3 {
		t.Fatalf("kept %d PDUs and %d EDUs (%d refused), want the 1 good of each", len(txn.PDUs), len(txn.EDUs), txn.Refused)
	}
}

// TestParseTransactionErrorCodes: a body that is not JSON (truncated,
// trailing text, nested past the decoder's limit) is M_NOT_JSON, valid
// JSON of the wrong shape M_BAD_JSON.
func TestParseTransactionErrorCodes(t *testing.T) {
	for body, want := range map[string]string{
		`{"pdus":`:                          "M_NOT_JSON",
		`{"pdus":[{"a":1}]} x`:              "M_NOT_JSON",
		`{"pdus":[{"a":1,}]}`:               "M_NOT_JSON",
		`{"pdus":[{"a":"` + "\x01" + `"}]}`: "M_NOT_JSON",
		`{"pdus":[` + strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001) + `]}`: "M_NOT_JSON",
		`[]`:                          "M_NOT_JSON",
		`{"pdus":"x"}`:                "M_BAD_JSON",
		`{"pdus":[1]}`:                "M_BAD_JSON",
		`{"origin_server_ts":"soon"}`: "M_BAD_JSON",
	} {
		_, resp := parseTransaction([]byte(body))
		if resp == nil || resp.Code != 400 {
			t.Errorf("%.40s: want 400, got %+v", body, resp)
			continue
		}
		if got := resp.JSON.(*httputil.MatrixError).ErrCode; got != want {
			t.Errorf("%.40s: errcode %s, want %s", body, got, want)
		}
	}
}
