package pushserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/pushserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Limits on what a client may store in a pusher (pushkey and app_id are
// the spec's; the rest keep rows small).
const (
	maxPushKeyBytes   = 512
	maxAppIDChars     = 64
	maxTextField      = 512
	maxDataBytes      = 4096
	maxPushersPerUser = 100
	gatewayPath       = "/_matrix/push/v1/notify"
)

// handleGetPushers serves GET /pushers.
func (p *PushServer) handleGetPushers(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	p.waitDevicesApplied(req.Context())
	ps, err := p.db.Pushers(req.Context(), dev.UserID)
	if err != nil {
		p.log.Error("list pushers", "error", err)
		return httputil.InternalError()
	}
	if ps == nil {
		ps = []storage.Pusher{}
	}
	return httputil.OK(map[string]any{"pushers": ps})
}

// setPusherRequest is the body of POST /pushers/set. Kind stays raw to
// tell null (delete) from absent.
type setPusherRequest struct {
	Kind              json.RawMessage `json:"kind"`
	AppID             *string         `json:"app_id"`
	PushKey           *string         `json:"pushkey"`
	AppDisplayName    *string         `json:"app_display_name"`
	DeviceDisplayName *string         `json:"device_display_name"`
	ProfileTag        string          `json:"profile_tag"`
	Lang              *string         `json:"lang"`
	Data              json.RawMessage `json:"data"`
	Append            bool            `json:"append"`
}

// handleSetPusher serves POST /pushers/set: create, update (same app ID
// and pushkey) or, with kind null, delete a pusher.
func (p *PushServer) handleSetPusher(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body setPusherRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Kind == nil || body.AppID == nil || body.PushKey == nil {
		return httputil.MissingParam("kind, app_id and pushkey are required")
	}
	if len(*body.PushKey) == 0 || len(*body.PushKey) > maxPushKeyBytes {
		return httputil.InvalidParam("pushkey must be 1 to %d bytes", maxPushKeyBytes)
	}
	if n := utf8.RuneCountInString(*body.AppID); n == 0 || n > maxAppIDChars {
		return httputil.InvalidParam("app_id must be 1 to %d characters", maxAppIDChars)
	}
	key := storage.Key{UserID: dev.UserID, AppID: *body.AppID, PushKey: *body.PushKey}
	if bytes.Equal(bytes.TrimSpace(body.Kind), []byte("null")) {
		if _, err := p.db.DeletePusher(ctx, key); err != nil {
			p.log.Error("delete pusher", "error", err)
			return httputil.InternalError()
		}
		p.signal(signalMsg{Pusher: &key})
		return httputil.Empty()
	}
	pusher, errResp := body.pusher(key, dev.ID)
	if errResp != nil {
		return *errResp
	}
	if n, err := p.db.CountOtherPushers(ctx, key); err != nil {
		p.log.Error("count pushers", "error", err)
		return httputil.InternalError()
	} else if n >= maxPushersPerUser {
		return httputil.Error(http.StatusBadRequest, "M_LIMIT_EXCEEDED", "A user may have at most %d pushers", maxPushersPerUser)
	}
	pos, err := p.src.PushPosition(ctx)
	if err != nil {
		p.log.Error("push position", "error", err)
		return httputil.InternalError()
	}
	pusher.DeliveredPos = pos // a new pusher delivers what comes next
	removed, err := p.db.SetPusher(ctx, pusher, body.Append)
	if err != nil {
		p.log.Error("set pusher", "error", err)
		return httputil.InternalError()
	}
	for _, k := range removed {
		p.signal(signalMsg{Pusher: &k})
	}
	p.signal(signalMsg{Pusher: &key, Set: &pusher})
	return httputil.Empty()
}

// pusher validates the fields a non-null kind requires.
func (b *setPusherRequest) pusher(key storage.Key, deviceID string) (storage.Pusher, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (storage.Pusher, *httputil.JSONResponse) { return storage.Pusher{}, &r }
	var kind string
	if err := json.Unmarshal(b.Kind, &kind); err != nil {
		return fail(httputil.BadJSON("kind must be a string or null"))
	}
	switch kind {
	case "http":
	case "email":
		return fail(httputil.InvalidParam("Email pushers are not supported by this server"))
	default:
		return fail(httputil.InvalidParam("Unknown pusher kind %q", kind))
	}
	if b.AppDisplayName == nil || b.DeviceDisplayName == nil || b.Lang == nil || b.Data == nil {
		return fail(httputil.MissingParam("app_display_name, device_display_name, lang and data are required"))
	}
	for _, s := range []string{*b.AppDisplayName, *b.DeviceDisplayName, *b.Lang, b.ProfileTag} {
		if len(s) > maxTextField {
			return fail(httputil.InvalidParam("Pusher fields are limited to %d bytes", maxTextField))
		}
	}
	if len(b.Data) > maxDataBytes {
		return fail(httputil.TooLarge("data is limited to %d bytes", maxDataBytes))
	}
	var data struct {
		URL    *string `json:"url"`
		Format *string `json:"format"`
	}
	if err := json.Unmarshal(b.Data, &data); err != nil || !bytes.HasPrefix(bytes.TrimSpace(b.Data), []byte("{")) {
		return fail(httputil.BadJSON("data must be an object with url"))
	}
	if data.URL == nil {
		return fail(httputil.MissingParam("data.url is required for http pushers"))
	}
	if u, err := url.Parse(*data.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != gatewayPath {
		return fail(httputil.InvalidParam("data.url must be an http(s) URL with the path %s", gatewayPath))
	}
	if data.Format != nil && *data.Format != "event_id_only" {
		return fail(httputil.InvalidParam("data.format must be event_id_only or absent"))
	}
	return storage.Pusher{
		UserID: key.UserID, AppID: key.AppID, PushKey: key.PushKey, Kind: kind,
		AppDisplayName: *b.AppDisplayName, DeviceDisplayName: *b.DeviceDisplayName, ProfileTag: b.ProfileTag, Lang: *b.Lang,
		Data: json.RawMessage(bytes.TrimSpace(b.Data)), DeviceID: deviceID, PushKeyTS: time.Now().Unix(),
	}, nil
}

// removeRejected deletes a pusher whose pushkey the gateway rejected.
func (p *PushServer) removeRejected(d *deliverer, k storage.Key) {
	d.remove(k)
	if _, err := p.db.DeletePusher(d.ctx, k); err != nil {
		p.log.Error("delete rejected pusher", "user_id", k.UserID, "app_id", k.AppID, "error", err)
		return
	}
	p.log.Info("push gateway rejected a pushkey; pusher removed", "user_id", k.UserID, "app_id", k.AppID)
}
