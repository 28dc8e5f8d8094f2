package adminapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	mapi "github.com/axon-hs/axon/mediaapi/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// mediaInfo: GET /_synapse/admin/v1/media/{serverName}/{mediaId}.
func (a *AdminAPI) mediaInfo(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	origin, mediaID, e := a.pathMedia(req, false)
	if e != nil {
		return *e
	}
	m, err := a.media.MediaInfo(req.Context(), origin, mediaID)
	if err != nil {
		return a.mediaFail(err, "media info")
	}
	info := map[string]any{
		"media_origin": m.Origin, "media_id": m.MediaID, "media_type": m.ContentType, "media_length": m.Size,
		"upload_name": nil, "user_id": nil, "created_ts": m.CreatedTS, "last_access_ts": m.LastAccessTS,
		"quarantined_by": nil, "safe_from_quarantine": m.Protected, "sha256": m.SHA256, "authenticated": true,
	}
	if m.FileName != "" {
		info["upload_name"] = m.FileName
	}
	if m.Uploader != "" {
		info["user_id"] = m.Uploader
	}
	if m.Quarantined {
		info["quarantined_by"] = m.QuarantinedBy
	}
	return httputil.OK(map[string]any{"media_info": info})
}

// deleteOneMedia: DELETE /_synapse/admin/v1/media/{serverName}/{mediaId}
// (local media, or a cached copy of remote media).
func (a *AdminAPI) deleteOneMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	origin, mediaID, e := a.pathMedia(req, false)
	if e != nil {
		return *e
	}
	if err := a.media.DeleteMedia(req.Context(), origin, mediaID); err != nil {
		return a.mediaFail(err, "delete media")
	}
	return httputil.OK(map[string]any{"deleted_media": []string{mediaID}, "total": 1})
}

// deleteOldMedia: POST /_synapse/admin/v1/media/delete?before_ts&size_gt&keep_profiles:
// local media last accessed before
// before_ts, larger than size_gt; protected media stays, and so do
// users' and rooms' pictures unless keep_profiles=false.
func (a *AdminAPI) deleteOldMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	before, e := timestampParam(req, "before_ts")
	if e != nil {
		return *e
	}
	q := mapi.DeleteLocalQuery{BeforeTS: before}
	if s := req.URL.Query().Get("size_gt"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return httputil.InvalidParam("size_gt must be a non-negative integer")
		}
		q.SizeGT = n
	}
	keepProfiles, e := boolParam(req, "keep_profiles", true)
	if e != nil {
		return *e
	}
	if keepProfiles {
		avatars, err := a.profileMedia(req.Context())
		if err != nil {
			return a.fail(err, "profile media")
		}
		q.Keep = avatars
	}
	deleted, err := a.media.DeleteLocalMedia(req.Context(), q)
	if err != nil {
		return a.mediaFail(err, "delete old media")
	}
	return httputil.OK(map[string]any{"deleted_media": deleted, "total": len(deleted)})
}

// profileMedia lists local media used as pictures: users' avatars
// (every account, deactivated and guests included) and rooms' avatars.
func (a *AdminAPI) profileMedia(ctx context.Context) ([]mapi.MXC, error) {
	var out []mapi.MXC
	keep := func(uri string) {
		if server, id, ok := matrixrules.SplitMXC(uri); ok && server == a.serverName {
			out = append(out, mapi.MXC{Origin: server, MediaID: id})
		}
	}
	rooms, err := a.rooms.QueryAllRooms(ctx)
	if err != nil {
		return nil, err
	}
	avatar := []rsapi.StateKey{{Type: spec.MRoomAvatar}}
	for _, roomID := range rooms {
		evs, err := a.rooms.QueryCurrentState(ctx, matrixid.RoomID(roomID), avatar)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			keep(gjson.GetBytes(ev.Content(), "url").Str)
		}
	}
	for from := 0; ; {
		page, err := a.users.QueryAccounts(ctx, uapi.AccountsQuery{From: from, Limit: 1000, Guests: true, Deactivated: true})
		if err != nil {
			return nil, err
		}
		for _, acc := range page.Accounts {
			keep(acc.AvatarURL)
		}
		from += len(page.Accounts)
		if len(page.Accounts) == 0 || from >= page.Total {
			return out, nil
		}
	}
}

// purgeMediaCache: POST /_synapse/admin/v1/purge_media_cache?before_ts:
// cached copies of other servers' media last accessed before before_ts
// (quarantined ones stay, so they are not fetched again).
func (a *AdminAPI) purgeMediaCache(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	before, e := timestampParam(req, "before_ts")
	if e != nil {
		return *e
	}
	n, err := a.media.PurgeRemoteCache(req.Context(), before)
	if err != nil {
		return a.mediaFail(err, "purge media cache")
	}
	return httputil.OK(map[string]int{"deleted": n})
}
