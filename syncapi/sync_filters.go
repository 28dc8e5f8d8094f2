package syncapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handlePostFilter serves POST /user/{userId}/filter.
func (s *SyncAPI) handlePostFilter(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot create filters for other users")
	}
	data, errResp := httputil.ReadBody(req, httputil.DefaultMaxBodyBytes) // filters are small
	if errResp != nil {
		return *errResp
	}
	var probe map[string]json.RawMessage
	if errResp := httputil.UnmarshalJSON(data, &probe); errResp != nil {
		return *errResp
	}
	if _, err := types.ParseFilter(data); err != nil {
		return httputil.BadJSON("Invalid filter: %v", err)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, data)
	id, err := s.db.InsertFilter(req.Context(), dev.UserID, compact.Bytes())
	if err != nil {
		s.log.Error("store filter", "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(map[string]string{"filter_id": id})
}

// handleGetFilter serves GET /user/{userId}/filter/{filterId}.
func (s *SyncAPI) handleGetFilter(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot read filters of other users")
	}
	f, err := s.db.GetFilter(req.Context(), dev.UserID, req.PathValue("filterId"))
	if err != nil {
		s.log.Error("get filter", "error", err)
		return httputil.InternalError()
	}
	if f == nil {
		return httputil.NotFound("No such filter")
	}
	return httputil.OK(json.RawMessage(f))
}
