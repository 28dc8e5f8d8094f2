package api

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/axon-hs/axon/internal/httputil"
)

// TestErrorMatrix: the one code -> HTTP status table for roomserver
// errors, which the Client-Server and the federation surface share.
func TestErrorMatrix(t *testing.T) {
	for code, want := range map[ErrorCode]int{
		CodeNotFound:  http.StatusNotFound,
		CodeForbidden: http.StatusForbidden,
		CodeTooLarge:  http.StatusRequestEntityTooLarge,
		CodeBadJSON:   http.StatusBadRequest,
		CodeBadAlias:  http.StatusBadRequest,
		CodeInUse:     http.StatusBadRequest,
		CodeVersion:   http.StatusBadRequest,
	} {
		r, ok := httputil.FromCoded(fmt.Errorf("input: %w", Errorf(code, "why")))
		if !ok {
			t.Fatalf("%s: not a CodedError", code)
		}
		me := r.JSON.(*httputil.MatrixError)
		if r.Code != want || me.ErrCode != string(code) || me.Err != "why" {
			t.Errorf("%s: got %d %s %q, want %d", code, r.Code, me.ErrCode, me.Err, want)
		}
	}
}
