package api

import (
	"net/http"
	"testing"

	"github.com/axon-hs/axon/internal/httputil"
)

// TestErrorMatrix: a remote server's own failure reaches our client as
// 502; its 4xx answers pass through.
func TestErrorMatrix(t *testing.T) {
	for status, want := range map[int]int{
		http.StatusNotFound:            http.StatusNotFound,
		http.StatusForbidden:           http.StatusForbidden,
		http.StatusInternalServerError: http.StatusBadGateway,
		http.StatusGatewayTimeout:      http.StatusGatewayTimeout,
		200:                            http.StatusBadGateway,
		0:                              http.StatusBadGateway,
	} {
		r, ok := httputil.FromCoded(&Error{Status: status, Code: "M_X", Message: "m"})
		if !ok || r.Code != want || r.JSON.(*httputil.MatrixError).ErrCode != "M_X" {
			t.Errorf("status %d: got %v %+v, want %d", status, ok, r, want)
		}
	}
}
