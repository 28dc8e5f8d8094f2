package syncapi

import (
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// The user directory (POST /user_directory/search) finds users sharing a
// room with the searcher and members of public rooms, local or remote, by
// a word prefix of their display name or user ID; the entries follow
// member events (storage/userdir.go), and a display name change is re-sent
// as member events, so they stay current. With
// user_directory.search_all_users every local account is found too.

const (
	defaultDirectoryLimit = 10
	maxDirectoryLimit     = 50
	maxDirectoryTermBytes = 256
)

// handleUserDirectorySearch serves POST /user_directory/search.
func (s *SyncAPI) handleUserDirectorySearch(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		SearchTerm *string `json:"search_term"`
		Limit      *int    `json:"limit"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.SearchTerm == nil {
		return httputil.MissingParam("search_term is required")
	}
	if len(*body.SearchTerm) > maxDirectoryTermBytes {
		return httputil.InvalidParam("search_term is limited to %d bytes", maxDirectoryTermBytes)
	}
	limit := defaultDirectoryLimit
	if body.Limit != nil {
		if *body.Limit < 1 {
			return httputil.InvalidParam("limit must be positive")
		}
		limit = min(*body.Limit, maxDirectoryLimit)
	}
	term := strings.ToLower(strings.TrimSpace(*body.SearchTerm))
	results := []uapi.DirectoryUser{}
	if term == "" {
		return httputil.OK(map[string]any{"results": results, "limited": false})
	}
	ctx := req.Context()
	s.waitCaughtUp(ctx)
	found, err := s.db.SearchDirectory(ctx, dev.UserID, term, limit+1)
	if err != nil {
		s.log.Error("user directory", "error", err)
		return httputil.InternalError()
	}
	seen := map[string]bool{}
	for _, u := range found {
		seen[u.UserID] = true
		results = append(results, uapi.DirectoryUser{UserID: u.UserID, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL})
	}
	if s.base.Cfg.UserDirectory.SearchAllUsers && len(results) <= limit {
		more, err := s.users.SearchUsers(ctx, term, limit+1)
		if err != nil {
			s.log.Error("user directory: local users", "error", err)
			return httputil.InternalError()
		}
		for _, u := range more {
			if !seen[u.UserID] {
				results = append(results, u)
			}
		}
	}
	limited := len(results) > limit
	if limited {
		results = results[:limit]
	}
	return httputil.OK(map[string]any{"results": results, "limited": limited})
}
