package syncapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handleSendToDevice serves PUT /sendToDevice/{eventType}/{txnId}. A
// repeated txnId from the same device is acknowledged without resending.
func (s *SyncAPI) handleSendToDevice(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	evType, txnID := req.PathValue("eventType"), req.PathValue("txnId")
	if r := s.toDeviceLimit.Check(req, dev.UserID); r != nil {
		return *r
	}
	var body struct {
		Messages map[string]map[string]json.RawMessage `json:"messages"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	type target struct{ user, device string }
	local := map[target]json.RawMessage{}
	var publish []api.OutputSendToDevice // for other servers and appservices
	for userID, devices := range body.Messages {
		for deviceID, content := range devices {
			if !json.Valid(content) || len(content) == 0 || content[0] != '{' {
				return httputil.BadJSON("Message content for %s/%s must be an object", userID, deviceID)
			}
			if !s.isLocal(userID) {
				publish = append(publish, api.OutputSendToDevice{Origin: s.base.Cfg.ServerName, Sender: dev.UserID, UserID: userID, DeviceID: deviceID, Type: evType, Content: content})
				continue
			}
			if s.base.Cfg.ToDeviceForAppservice(userID) { // the appservice component pushes it on (syncapi skips its own)
				publish = append(publish, api.OutputSendToDevice{Origin: s.base.Cfg.ServerName, Sender: dev.UserID, UserID: userID, DeviceID: deviceID, Type: evType, Content: content})
			}
			if deviceID != "*" {
				local[target{userID, deviceID}] = content
				continue
			}
			devs, err := s.users.QueryDevices(ctx, matrixid.UserID(userID))
			if err != nil {
				continue // unknown user: nothing to deliver
			}
			for _, d := range devs {
				local[target{userID, d.DeviceID}] = content
			}
		}
	}
	var pos types.StreamPosition
	seen := false
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		if seen, err = s.db.ToDeviceTxnSeen(ctx, tx, dev.UserID, dev.ID, evType+"/"+txnID, time.Now().UnixMilli()); err != nil || seen {
			return err
		}
		for t, content := range local {
			if pos, err = s.db.InsertToDevice(ctx, tx, t.user, t.device, dev.UserID, evType, content); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("send to device", "error", err)
		return httputil.InternalError()
	}
	if seen {
		return httputil.Empty()
	}
	if pos > 0 {
		users := make([]string, 0, len(local))
		for t := range local {
			users = append(users, t.user)
		}
		s.notif.Advance(func(t *types.StreamToken) { t.ToDevice = pos }, users...)
	}
	for i := range publish {
		s.publishEDU(ctx, stream.SendToDevice, &publish[i], nil)
	}
	return httputil.Empty()
}
