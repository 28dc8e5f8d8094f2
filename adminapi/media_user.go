package adminapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	mapi "github.com/axon-hs/axon/mediaapi/api"
)

// userMediaJSON is one file in a user's media list (Synapse's shape).
type userMediaJSON struct {
	MediaID            string  `json:"media_id"`
	MediaType          string  `json:"media_type"`
	MediaLength        int64   `json:"media_length"`
	UploadName         *string `json:"upload_name"`
	CreatedTS          int64   `json:"created_ts"`
	LastAccessTS       int64   `json:"last_access_ts"`
	QuarantinedBy      *string `json:"quarantined_by"`
	SafeFromQuarantine bool    `json:"safe_from_quarantine"`
}

func newUserMediaJSON(m *mapi.Media) userMediaJSON {
	j := userMediaJSON{MediaID: m.MediaID, MediaType: m.ContentType, MediaLength: m.Size, CreatedTS: m.CreatedTS,
		LastAccessTS: m.LastAccessTS, SafeFromQuarantine: m.Protected}
	if m.FileName != "" {
		j.UploadName = &m.FileName
	}
	if m.Quarantined {
		by := m.QuarantinedBy
		j.QuarantinedBy = &by
	}
	return j
}

// userMediaQuery reads the user and from, limit, order_by, dir.
func (a *AdminAPI) userMediaQuery(req *http.Request) (mapi.UserMediaQuery, *httputil.JSONResponse) {
	acc, e := a.existingUser(req)
	if e != nil {
		return mapi.UserMediaQuery{}, e
	}
	from, limit, e := paging(req, 100)
	if e != nil {
		return mapi.UserMediaQuery{}, e
	}
	q := mapi.UserMediaQuery{UserID: acc.UserID, From: from, Limit: limit, OrderBy: req.URL.Query().Get("order_by")}
	switch req.URL.Query().Get("dir") {
	case "", "f":
	case "b":
		q.Desc = true
	default:
		r := httputil.InvalidParam("dir must be f or b")
		return q, &r
	}
	return q, nil
}

// listUserMedia: GET /_synapse/admin/v1/users/{userId}/media.
func (a *AdminAPI) listUserMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	q, e := a.userMediaQuery(req)
	if e != nil {
		return *e
	}
	page, err := a.media.UserMedia(req.Context(), q)
	if err != nil {
		return a.mediaFail(err, "list user media")
	}
	media := make([]userMediaJSON, 0, len(page.Media))
	for i := range page.Media {
		media = append(media, newUserMediaJSON(&page.Media[i]))
	}
	body := map[string]any{"media": media, "total": page.Total}
	if next := q.From + len(media); len(media) > 0 && next < page.Total {
		body["next_token"] = next
	}
	return httputil.OK(body)
}

// deleteUserMedia: DELETE /_synapse/admin/v1/users/{userId}/media (the
// page that the same parameters list).
func (a *AdminAPI) deleteUserMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	q, e := a.userMediaQuery(req)
	if e != nil {
		return *e
	}
	deleted, err := a.media.DeleteUserMedia(req.Context(), q)
	if err != nil {
		return a.mediaFail(err, "delete user media")
	}
	return httputil.OK(map[string]any{"deleted_media": deleted, "total": len(deleted)})
}
