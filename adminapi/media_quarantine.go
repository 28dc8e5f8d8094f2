package adminapi

import (
	"context"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	mapi "github.com/axon-hs/axon/mediaapi/api"
)

// quarantineMedia: POST /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId}.
// Local media must exist; media of another server is refused from now on
// even if it is not cached yet. Protected media is left as it is.
func (a *AdminAPI) quarantineMedia(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	origin, mediaID, e := a.pathMedia(req, false)
	if e != nil {
		return *e
	}
	if origin == a.serverName {
		if _, err := a.media.MediaInfo(req.Context(), origin, mediaID); err != nil {
			return a.mediaFail(err, "media info")
		}
	}
	if _, err := a.media.Quarantine(req.Context(), []mapi.MXC{{Origin: origin, MediaID: mediaID}}, admin.UserID); err != nil {
		return a.mediaFail(err, "quarantine media")
	}
	return httputil.OK(struct{}{})
}

// unquarantineMedia: POST /_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId}.
func (a *AdminAPI) unquarantineMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	origin, mediaID, e := a.pathMedia(req, false)
	if e != nil {
		return *e
	}
	if err := a.media.Unquarantine(req.Context(), origin, mediaID); err != nil {
		return a.mediaFail(err, "unquarantine media")
	}
	return httputil.OK(struct{}{})
}

// protectMedia: POST /_synapse/admin/v1/media/{protect,unprotect}/{mediaId}
// (local media).
func (a *AdminAPI) protectMedia(protect bool) adminHandler {
	return func(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
		if e := a.mediaAvailable(); e != nil {
			return *e
		}
		_, mediaID, e := a.pathMedia(req, true)
		if e != nil {
			return *e
		}
		if err := a.media.SetProtected(req.Context(), mediaID, protect); err != nil {
			return a.mediaFail(err, "protect media")
		}
		return httputil.OK(struct{}{})
	}
}

// quarantineUserMedia: POST /_synapse/admin/v1/user/{userId}/media/quarantine.
func (a *AdminAPI) quarantineUserMedia(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	n, err := a.media.QuarantineUserMedia(req.Context(), acc.UserID, admin.UserID)
	if err != nil {
		return a.mediaFail(err, "quarantine user media")
	}
	return httputil.OK(map[string]int{"num_quarantined": n})
}

// roomMediaPages calls fn with the media of each page of a room's events.
func (a *AdminAPI) roomMediaPages(ctx context.Context, roomID string, fn func([]mapi.MXC) error) error {
	var after int64
	for {
		page, err := a.rooms.QueryRoomMediaURIs(ctx, matrixid.RoomID(roomID), after)
		if err != nil {
			return err
		}
		media := make([]mapi.MXC, 0, len(page.URIs))
		for _, u := range page.URIs {
			if server, id, ok := matrixrules.SplitMXC(u); ok && validMediaRef(server, id) {
				media = append(media, mapi.MXC{Origin: server, MediaID: id})
			}
		}
		if err := fn(media); err != nil {
			return err
		}
		if page.Next == 0 {
			return nil
		}
		after = page.Next
	}
}

// quarantineRoomMedia: POST /_synapse/admin/v1/room/{roomId}/media/quarantine:
// every mxc:// URI in the content of the room's events, local or remote.
func (a *AdminAPI) quarantineRoomMedia(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	if e := a.mediaAvailable(); e != nil {
		return *e
	}
	roomID, e := a.pathRoom(req)
	if e != nil {
		return *e
	}
	total := 0
	err := a.roomMediaPages(req.Context(), roomID, func(media []mapi.MXC) error {
		n, err := a.media.Quarantine(req.Context(), media, admin.UserID)
		total += n
		return err
	})
	if err != nil {
		return a.mediaFail(err, "quarantine room media")
	}
	return httputil.OK(map[string]int{"num_quarantined": total})
}

// roomMedia: GET /_synapse/admin/v1/room/{roomId}/media: the mxc:// URIs
// in the room's events, this server's and others'.
func (a *AdminAPI) roomMedia(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	roomID, e := a.pathRoom(req)
	if e != nil {
		return *e
	}
	local, remote := []string{}, []string{}
	seen := map[mapi.MXC]bool{}
	err := a.roomMediaPages(req.Context(), roomID, func(media []mapi.MXC) error {
		for _, m := range media {
			if seen[m] {
				continue
			}
			seen[m] = true
			uri := "mxc://" + m.Origin + "/" + m.MediaID
			if m.Origin == a.serverName {
				local = append(local, uri)
			} else {
				remote = append(remote, uri)
			}
		}
		return nil
	})
	if err != nil {
		return a.fail(err, "room media")
	}
	return httputil.OK(map[string][]string{"local": local, "remote": remote})
}
