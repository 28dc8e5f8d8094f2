package clientapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/axon-hs/axon/internal/httputil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// TestErrorResponse: other components' errors, wrapped or not, become
// their Matrix errors; anything else is a 500 that hides the cause.
func TestErrorResponse(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("x: %w", uapi.ErrNotFound), http.StatusNotFound, "M_NOT_FOUND"},
		{uapi.ErrUserInUse, http.StatusBadRequest, "M_USER_IN_USE"},
		{uapi.ErrUserDeactivated, http.StatusForbidden, "M_USER_DEACTIVATED"},
		{uapi.ErrUnknownToken, http.StatusUnauthorized, "M_UNKNOWN_TOKEN"},
		{fmt.Errorf("input: %w", rsapi.Errorf(rsapi.CodeInUse, "taken")), http.StatusBadRequest, "M_ROOM_IN_USE"},
		{rsapi.ErrRoomNotFound, http.StatusNotFound, "M_NOT_FOUND"},
		{errors.New("disk on fire"), http.StatusInternalServerError, "M_UNKNOWN"},
		{context.Canceled, http.StatusInternalServerError, "M_UNKNOWN"},
	} {
		r := errorResponse(log, c.err, "test")
		me := r.JSON.(*httputil.MatrixError)
		if r.Code != c.status || me.ErrCode != c.code {
			t.Errorf("%v: got %d %s, want %d %s", c.err, r.Code, me.ErrCode, c.status, c.code)
		}
		if c.status == http.StatusInternalServerError && me.Err == c.err.Error() {
			t.Errorf("%v: internal cause shown to the client", c.err)
		}
	}
}
