package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// userJSON is a user as the Synapse admin API shows it.
type userJSON struct {
	Name         string   `json:"name"`
	DisplayName  string   `json:"displayname,omitempty"`
	AvatarURL    string   `json:"avatar_url,omitempty"`
	Admin        bool     `json:"admin"`
	Deactivated  bool     `json:"deactivated"`
	IsGuest      bool     `json:"is_guest"`
	UserType     *string  `json:"user_type"`
	ShadowBanned bool     `json:"shadow_banned"`
	Locked       bool     `json:"locked"`
	Erased       bool     `json:"erased"`
	CreationTS   int64    `json:"creation_ts"`
	Threepids    []string `json:"threepids"`
	ExternalIDs  []string `json:"external_ids"`
}

func newUserJSON(acc *uapi.Account, displayName, avatarURL string) userJSON {
	return userJSON{
		Name: acc.UserID, DisplayName: displayName, AvatarURL: avatarURL, Admin: acc.IsAdmin,
		Deactivated: acc.Deactivated, Erased: acc.Erased, IsGuest: acc.IsGuest, CreationTS: acc.CreatedTS, ShadowBanned: acc.ShadowBanned,
		Threepids: []string{}, ExternalIDs: []string{},
	}
}

// localUser checks that the path's user ID is a well-formed local one.
func (a *AdminAPI) localUser(req *http.Request) (string, *httputil.JSONResponse) {
	userID := req.PathValue("userId")
	if len(userID) > 255 || !strings.HasPrefix(userID, "@") {
		r := httputil.InvalidParam("%q is not a user ID", userID)
		return "", &r
	}
	if _, server, ok := strings.Cut(userID[1:], ":"); !ok || server != a.serverName {
		r := httputil.InvalidParam("Only local users can be administered here")
		return "", &r
	}
	return userID, nil
}

// existingUser reads the path's user, which must exist.
func (a *AdminAPI) existingUser(req *http.Request) (*uapi.Account, *httputil.JSONResponse) {
	userID, e := a.localUser(req)
	if e != nil {
		return nil, e
	}
	acc, err := a.users.QueryAccount(req.Context(), matrixid.UserID(userID))
	if err != nil {
		r := a.fail(err, "query user")
		return nil, &r
	}
	return acc, nil
}

// loadUser reads an account with its profile.
func (a *AdminAPI) loadUser(ctx context.Context, userID string) (*userJSON, error) {
	acc, err := a.users.QueryAccount(ctx, matrixid.UserID(userID))
	if err != nil {
		return nil, err
	}
	name, avatar, err := a.users.QueryProfile(ctx, matrixid.UserID(userID))
	if err != nil {
		return nil, err
	}
	u := newUserJSON(acc, name, avatar)
	return &u, nil
}

// setProfileString sets (or with "" clears) a string profile field.
func (a *AdminAPI) setProfileString(ctx context.Context, userID, field, value string) error {
	var v json.RawMessage
	if value != "" {
		v, _ = json.Marshal(value)
	}
	return a.users.SetProfileField(ctx, matrixid.UserID(userID), field, v)
}

// boolParam reads a "true"/"false" query parameter.
func boolParam(req *http.Request, name string, def bool) (bool, *httputil.JSONResponse) {
	switch req.URL.Query().Get(name) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	r := httputil.InvalidParam("%s must be true or false", name)
	return false, &r
}
