package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// profileKey is the spec's grammar for profile field names.
var profileKey = regexp.MustCompile(`^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$`)

// maxDisplayNameBytes matches what other servers accept, so names
// survive federation.
const maxDisplayNameBytes = 256

// maxAvatarURLBytes bounds avatar_url, which is copied into member events.
const maxAvatarURLBytes = 1000

// profileUser checks the {userId} of a profile path and says whether the
// user is another server's.
func (a *accountRoutes) profileUser(req *http.Request) (string, bool, *httputil.JSONResponse) {
	userID := req.PathValue("userId")
	_, server, ok := parseUserID(userID)
	if !ok {
		r := httputil.InvalidParam("%q is not a user ID", userID)
		return "", false, &r
	}
	return userID, server != a.cfg.ServerName, nil
}

// profileFields reads a local profile, or a remote one over federation.
func (a *accountRoutes) profileFields(req *http.Request) (map[string]json.RawMessage, *httputil.JSONResponse) {
	userID, remote, errResp := a.profileUser(req)
	if errResp != nil {
		return nil, errResp
	}
	var fields map[string]json.RawMessage
	var err error
	switch {
	case !remote:
		fields, err = a.localProfileFields(req.Context(), userID)
	case a.remote == nil:
		r := httputil.NotFound("Profiles of other servers' users need federation, which is disabled")
		return nil, &r
	default:
		fields, err = a.remote.get(req.Context(), userID)
	}
	if err != nil {
		r := a.userError(err, "get profile")
		return nil, &r
	}
	return fields, nil
}

// localProfileFields reads a local profile; an unknown user in an
// appservice namespace is asked of the appservice first, which may create it.
func (a *accountRoutes) localProfileFields(ctx context.Context, userID string) (map[string]json.RawMessage, error) {
	fields, err := a.users.QueryProfileFields(ctx, matrixid.UserID(userID))
	if errors.Is(err, uapi.ErrNotFound) && a.appservices.askForUser(ctx, userID) {
		fields, err = a.users.QueryProfileFields(ctx, matrixid.UserID(userID))
	}
	return fields, err
}

// getProfile: GET /profile/{userId}.
func (a *accountRoutes) getProfile(req *http.Request) httputil.JSONResponse {
	fields, errResp := a.profileFields(req)
	if errResp != nil {
		return *errResp
	}
	return httputil.OK(fields)
}

// getProfileField: GET /profile/{userId}/{keyName}.
func (a *accountRoutes) getProfileField(req *http.Request) httputil.JSONResponse {
	key := req.PathValue("keyName")
	fields, errResp := a.profileFields(req)
	if errResp != nil {
		return *errResp
	}
	value, ok := fields[key]
	if !ok {
		return httputil.NotFound("No %s set for this user", key)
	}
	return httputil.OK(map[string]json.RawMessage{key: value})
}

// ownProfileField checks a write to a profile field: the caller's own
// profile, a valid key, and guests only their display name.
func (a *accountRoutes) ownProfileField(req *http.Request, dev *uapi.Device) (string, *httputil.JSONResponse) {
	userID, _, errResp := a.profileUser(req)
	if errResp != nil {
		return "", errResp
	}
	if userID != dev.UserID {
		r := httputil.Forbidden("You may only change your own profile")
		return "", &r
	}
	key := req.PathValue("keyName")
	if len(key) > 255 {
		r := httputil.Error(http.StatusBadRequest, "M_KEY_TOO_LARGE", "Profile keys may be at most 255 bytes")
		return "", &r
	}
	if !profileKey.MatchString(key) {
		r := httputil.InvalidParam("Invalid profile key %q", key)
		return "", &r
	}
	if dev.IsGuest && key != "displayname" {
		r := httputil.GuestForbidden()
		return "", &r
	}
	return key, nil
}

// setProfileField: PUT /profile/{userId}/{keyName}.
func (a *accountRoutes) setProfileField(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	key, errResp := a.ownProfileField(req, dev)
	if errResp != nil {
		return *errResp
	}
	var body map[string]json.RawMessage
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	value, ok := body[key]
	if !ok {
		return httputil.MissingParam("The body must contain %q", key)
	}
	value, errResp = checkProfileValue(key, value)
	if errResp != nil {
		return *errResp
	}
	if err := a.users.SetProfileField(req.Context(), matrixid.UserID(dev.UserID), key, value); err != nil {
		return a.userError(err, "set profile")
	}
	a.profileChanged(dev.UserID, key)
	return httputil.Empty()
}

// checkProfileValue validates the standard fields. An empty or null
// display name or avatar means "remove it" (a nil result).
func checkProfileValue(key string, value json.RawMessage) (json.RawMessage, *httputil.JSONResponse) {
	bad := func(format string, args ...any) (json.RawMessage, *httputil.JSONResponse) {
		r := httputil.BadJSON(format, args...)
		return nil, &r
	}
	switch key {
	case "displayname", "avatar_url", "m.tz":
		if string(value) == "null" {
			return nil, nil
		}
		var s string
		if err := json.Unmarshal(value, &s); err != nil {
			return bad("%s must be a string", key)
		}
		if s == "" {
			return nil, nil
		}
		if key == "displayname" && len(s) > maxDisplayNameBytes {
			r := httputil.InvalidParam("displayname is longer than %d bytes", maxDisplayNameBytes)
			return nil, &r
		}
		// Any string is kept as the avatar (clients set mxc:// URIs; the
		// spec does not restrict it and other servers accept any), bounded
		// so member events stay small.
		if key == "avatar_url" && len(s) > maxAvatarURLBytes {
			r := httputil.InvalidParam("avatar_url is longer than %d bytes", maxAvatarURLBytes)
			return nil, &r
		}
	}
	return value, nil
}

// deleteProfileField: DELETE /profile/{userId}/{keyName}.
func (a *accountRoutes) deleteProfileField(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	key, errResp := a.ownProfileField(req, dev)
	if errResp != nil {
		return *errResp
	}
	if err := a.users.SetProfileField(req.Context(), matrixid.UserID(dev.UserID), key, nil); err != nil {
		return a.userError(err, "delete profile field")
	}
	a.profileChanged(dev.UserID, key)
	return httputil.Empty()
}

// profileChanged updates the user's rooms when a field they show changed.
func (a *accountRoutes) profileChanged(userID, key string) {
	if key == "displayname" || key == "avatar_url" {
		a.rooms.profileChanged(userID)
	}
}

func jsonString(s string) (json.RawMessage, error) { return json.Marshal(s) }
