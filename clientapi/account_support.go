package clientapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// wellKnownSupport: GET /.well-known/matrix/support, from the support
// section of the config (404 when it names nobody).
func (a *accountRoutes) wellKnownSupport(req *http.Request) httputil.JSONResponse {
	s := a.cfg.Support
	if len(s.Contacts) == 0 && s.SupportPage == "" {
		return httputil.NotFound("No support contacts are configured")
	}
	contacts := make([]map[string]string, 0, len(s.Contacts))
	for _, c := range s.Contacts {
		m := map[string]string{"role": c.Role}
		if c.MatrixID != "" {
			m["matrix_id"] = c.MatrixID
		}
		if c.EmailAddress != "" {
			m["email_address"] = c.EmailAddress
		}
		contacts = append(contacts, m)
	}
	out := map[string]any{"contacts": contacts}
	if s.SupportPage != "" {
		out["support_page"] = s.SupportPage
	}
	return httputil.OK(out)
}

// turnServer: GET /voip/turnServer. Credentials follow coturn's
// shared-secret scheme (TURN REST API): the username is
// "<expiry unix time>:<user ID>", the password base64(HMAC-SHA1(secret,
// username)), so coturn checks them without asking us. Without TURN
// configured the answer is {} (clients then call without TURN).
func (a *accountRoutes) turnServer(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	v := a.cfg.VoIP
	if len(v.TURNURIs) == 0 || v.TURNSharedSecret == "" {
		return httputil.Empty()
	}
	if dev.IsGuest && !v.TURNAllowGuests {
		return httputil.GuestForbidden()
	}
	username, password := turnCredentials(v.TURNSharedSecret, dev.UserID, time.Now().Add(time.Duration(v.TURNUserLifetimeSeconds)*time.Second))
	return httputil.OK(map[string]any{"username": username, "password": password, "uris": v.TURNURIs, "ttl": v.TURNUserLifetimeSeconds})
}

func turnCredentials(secret, userID string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + userID
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
