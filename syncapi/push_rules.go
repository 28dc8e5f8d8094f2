package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/pushrules"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// loadRules reads the user's push rules from the userapi (the source of
// truth, so a PUT is visible to the next GET at once).
func (s *SyncAPI) loadRules(ctx context.Context, userID string) (*pushrules.Ruleset, error) {
	content, err := s.users.AccountData(ctx, matrixid.UserID(userID), "", matrixrules.MPushRules)
	if err != nil {
		return nil, err
	}
	return pushrules.WithDefaults(userID, content), nil
}

// pushRulesContent is the m.push_rules account data clients are sent:
// the stored rules with the server's defaults filled in, as GET /pushrules
// answers.
func pushRulesContent(userID string, stored []byte) json.RawMessage {
	content, _ := json.Marshal(pushrules.AccountData{Global: *pushrules.WithDefaults(userID, stored)})
	return content
}

func (s *SyncAPI) saveRules(ctx context.Context, userID string, rs *pushrules.Ruleset) error {
	content, err := json.Marshal(pushrules.AccountData{Global: *rs})
	if err != nil {
		return err
	}
	if err := s.setAccountData(ctx, userID, "", matrixrules.MPushRules, content); err != nil {
		return err
	}
	s.push.set(userID, content)
	return nil
}

// pushRuleTarget validates scope/kind/ruleId and loads the rule set.
// existingPushRule is pushRuleTarget for a rule that must already exist:
// one of a kind this server does not have (a newer one, such as
// MSC4306's postcontent) does not exist either, so it is 404 like any
// other missing rule, and a client probing for it can tell.
func (s *SyncAPI) existingPushRule(req *http.Request, dev *uapi.Device) (*pushrules.Ruleset, string, string, *pushrules.Rule, *httputil.JSONResponse) {
	rs, kind, id, errResp := s.pushRuleSet(req, dev)
	if errResp != nil {
		return nil, "", "", nil, errResp
	}
	r := rs.Find(kind, id)
	if r == nil {
		nf := httputil.NotFound("Unknown push rule")
		return nil, "", "", nil, &nf
	}
	return rs, kind, id, r, nil
}

func (s *SyncAPI) pushRuleTarget(req *http.Request, dev *uapi.Device) (*pushrules.Ruleset, string, string, *httputil.JSONResponse) {
	rs, kind, id, errResp := s.pushRuleSet(req, dev)
	if errResp == nil && rs.List(kind) == nil {
		r := httputil.InvalidParam("Unknown rule kind %q", kind)
		errResp = &r
	}
	return rs, kind, id, errResp
}

// pushRuleSet validates the scope and loads the rule set.
func (s *SyncAPI) pushRuleSet(req *http.Request, dev *uapi.Device) (*pushrules.Ruleset, string, string, *httputil.JSONResponse) {
	scope, kind, id := req.PathValue("scope"), req.PathValue("kind"), req.PathValue("ruleId")
	fail := func(r httputil.JSONResponse) (*pushrules.Ruleset, string, string, *httputil.JSONResponse) {
		return nil, "", "", &r
	}
	if scope != "global" {
		return fail(httputil.InvalidParam("Unknown scope %q", scope))
	}
	rs, err := s.loadRules(req.Context(), dev.UserID)
	if err != nil {
		s.log.Error("load push rules", "error", err)
		return fail(httputil.InternalError())
	}
	return rs, kind, id, nil
}

func (s *SyncAPI) handleGetAllPushRules(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	rs, err := s.loadRules(req.Context(), dev.UserID)
	if err != nil {
		s.log.Error("load push rules", "error", err)
		return httputil.InternalError()
	}
	if req.PathValue("scope") != "" {
		if req.PathValue("scope") != "global" {
			return httputil.InvalidParam("Unknown scope")
		}
		return httputil.OK(rs)
	}
	return httputil.OK(map[string]any{"global": rs})
}

func (s *SyncAPI) handleGetPushRule(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	_, _, _, r, errResp := s.existingPushRule(req, dev)
	if errResp != nil {
		return *errResp
	}
	switch req.PathValue("attr") {
	case "":
		return httputil.OK(r)
	case "enabled":
		return httputil.OK(map[string]bool{"enabled": r.Enabled})
	case "actions":
		return httputil.OK(map[string]any{"actions": r.Actions})
	}
	return httputil.Unrecognized("Unknown push rule attribute")
}

func (s *SyncAPI) handlePutPushRuleAttr(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	rs, _, _, r, errResp := s.existingPushRule(req, dev)
	if errResp != nil {
		return *errResp
	}
	switch req.PathValue("attr") {
	case "enabled":
		var body struct {
			Enabled *bool `json:"enabled"`
		}
		if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
			return *errResp
		}
		if body.Enabled == nil {
			return httputil.BadJSON("Missing 'enabled'")
		}
		r.Enabled = *body.Enabled
	case "actions":
		var body struct {
			Actions []json.RawMessage `json:"actions"`
		}
		if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
			return *errResp
		}
		if body.Actions == nil {
			return httputil.BadJSON("Missing 'actions'")
		}
		r.Actions = body.Actions
		if err := pushrules.CheckRule(r); err != nil {
			return httputil.BadJSON("%v", err)
		}
	default:
		return httputil.Unrecognized("Unknown push rule attribute")
	}
	return s.savedOK(req.Context(), dev.UserID, rs)
}

func (s *SyncAPI) savedOK(ctx context.Context, userID string, rs *pushrules.Ruleset) httputil.JSONResponse {
	if err := s.saveRules(ctx, userID, rs); err != nil {
		s.log.Error("save push rules", "error", err)
		return httputil.InternalError()
	}
	return httputil.Empty()
}

func (s *SyncAPI) handlePutPushRule(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	rs, kind, id, errResp := s.pushRuleTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	if strings.HasPrefix(id, ".") || strings.ContainsAny(id, "/\\") || id == "" {
		return httputil.InvalidParam("Invalid rule ID %q", id)
	}
	var body struct {
		Actions    []json.RawMessage     `json:"actions"`
		Conditions []pushrules.Condition `json:"conditions"`
		Pattern    *string               `json:"pattern"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Actions == nil {
		return httputil.BadJSON("Missing 'actions'")
	}
	if kind == "content" && body.Pattern == nil {
		return httputil.BadJSON("Content rules need a 'pattern'")
	}
	rule := &pushrules.Rule{RuleID: id, Enabled: true, Actions: body.Actions, Conditions: body.Conditions, Pattern: body.Pattern}
	if kind != "override" && kind != "underride" {
		rule.Conditions = nil
	} else if rule.Conditions == nil {
		rule.Conditions = []pushrules.Condition{}
	}
	if err := pushrules.CheckRule(rule); err != nil {
		return httputil.BadJSON("%v", err)
	}
	if old := rs.Find(kind, id); old != nil {
		rule.Enabled = old.Enabled
	} else if rs.UserRules() >= pushrules.MaxUserRules {
		return httputil.BadJSON("At most %d push rules per user", pushrules.MaxUserRules)
	}
	list := rs.List(kind)
	removeRule(list, id)
	q := req.URL.Query()
	before, after := q.Get("before"), q.Get("after")
	idx := firstDefault(*list) // user rules go before server defaults
	if before != "" || after != "" {
		ref := before
		if ref == "" {
			ref = after
		}
		if strings.HasPrefix(ref, ".") {
			return httputil.InvalidParam("Cannot position relative to a server-default rule")
		}
		pos := -1
		for i, r := range *list {
			if r.RuleID == ref {
				pos = i
			}
		}
		if pos < 0 {
			return httputil.NotFound("Unknown rule %q", ref)
		}
		idx = pos
		if after != "" && before == "" {
			idx = pos + 1
		}
	}
	*list = append((*list)[:idx], append([]*pushrules.Rule{rule}, (*list)[idx:]...)...)
	return s.savedOK(req.Context(), dev.UserID, rs)
}

// firstDefault is where user rules end in a list: before server defaults,
// except that the master override rule always stays first.
func firstDefault(list []*pushrules.Rule) int {
	for i, r := range list {
		if r.Default && r.RuleID != ".m.rule.master" {
			return i
		}
	}
	return len(list)
}

func removeRule(list *[]*pushrules.Rule, id string) {
	out := (*list)[:0]
	for _, r := range *list {
		if r.RuleID != id {
			out = append(out, r)
		}
	}
	*list = out
}

func (s *SyncAPI) handleDeletePushRule(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	rs, kind, id, r, errResp := s.existingPushRule(req, dev)
	if errResp != nil {
		return *errResp
	}
	if r.Default {
		return httputil.InvalidParam("Cannot delete a server-default rule")
	}
	removeRule(rs.List(kind), id)
	return s.savedOK(req.Context(), dev.UserID, rs)
}
