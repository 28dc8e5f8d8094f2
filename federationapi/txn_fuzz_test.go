package federationapi

import (
	"strings"
	"testing"
)

// FuzzParseTransaction: any body gives either a transaction within the
// limits or a 4xx, never a panic. The seed corpus runs under go test.
func FuzzParseTransaction(f *testing.F) {
	seeds := []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"pdus":[]}`, `{"pdus":null,"edus":null}`,
		`{"origin":"a.org","origin_server_ts":1,"pdus":[{"type":"m.room.message"}],"edus":[{"edu_type":"m.typing","content":{}}]}`,
		`{"pdus":[1,2]}`, `{"pdus":{}}`, `{"edus":[{"edu_type":5}]}`, `{"pdus":[` + strings.Repeat(`{},`, 50) + `{}]}`,
		`{"edus":[` + strings.Repeat(`{},`, 100) + `{}]}`, `{"pdus":[{}]`, "{\"pdus\":[\"\xff\"]}",
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
