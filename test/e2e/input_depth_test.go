package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// TestInputJSONDepthAndPushRuleBounds: one nesting limit for every JSON
// input (event content, account data, push rules, filters), so nothing
// accepted can fail later in a consumer; push rules have bounded action
// and condition lists, and a user a bounded number of rules.
func TestInputJSONDepthAndPushRuleBounds(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		c := inst.Register("deep", "password123")
		v3 := inst.URL + "/_matrix/client/v3"
		me := url.PathEscape(string(c.UserID))
		room := url.PathEscape(string(syncRoom(t, c)))
		nest := func(n int) string { return strings.Repeat(`{"a":`, n) + `1` + strings.Repeat(`}`, n) }

		for name, req := range map[string][2]string{
			"account data":      {"PUT", "/user/" + me + "/account_data/org.example.deep"},
			"room account data": {"PUT", "/user/" + me + "/rooms/" + room + "/account_data/org.example.deep"},
			"event content":     {"PUT", "/rooms/" + room + "/send/org.example.deep/t1"},
			"state content":     {"PUT", "/rooms/" + room + "/state/org.example.deep/"},
			"filter":            {"POST", "/user/" + me + "/filter"},
		} {
			acctExpect(t, name+" nested 100 deep", acctDo(t, req[0], v3+req[1], c.AccessToken, nest(100)), http.StatusBadRequest, "M_BAD_JSON")
			if name != "filter" {
				acctExpect(t, name+" nested 10 deep", acctDo(t, req[0], v3+req[1], c.AccessToken, nest(10)), http.StatusOK, "")
			}
		}
		acctExpect(t, "push rule nested 100 deep", acctDo(t, "PUT", v3+"/pushrules/global/override/deep", c.AccessToken,
			`{"actions":["notify"],"conditions":[{"kind":"event_match","key":"x","pattern":"y","extra":`+nest(100)+`}]}`), http.StatusBadRequest, "M_BAD_JSON")

		actions := func(n int) string { return `[` + strings.TrimSuffix(strings.Repeat(`"notify",`, n), ",") + `]` }
		conds := func(n int) string {
			return `[` + strings.TrimSuffix(strings.Repeat(`{"kind":"event_match","key":"type","pattern":"m.x"},`, n), ",") + `]`
		}
		acctExpect(t, "push rule with many actions", acctDo(t, "PUT", v3+"/pushrules/global/override/many", c.AccessToken,
			`{"actions":`+actions(maxTestPushActions+1)+`}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "push rule actions attr with many actions", acctDo(t, "PUT", v3+"/pushrules/global/override/.m.rule.master/actions", c.AccessToken,
			`{"actions":`+actions(maxTestPushActions+1)+`}`), http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "push rule with many conditions", acctDo(t, "PUT", v3+"/pushrules/global/override/many", c.AccessToken,
			`{"actions":["notify"],"conditions":`+conds(maxTestPushConditions+1)+`}`), http.StatusBadRequest, "M_BAD_JSON")
		for i := range maxTestPushRules {
			acctExpect(t, fmt.Sprintf("rule %d", i), acctDo(t, "PUT", fmt.Sprintf("%s/pushrules/global/room/!r%d:x", v3, i), c.AccessToken,
				`{"actions":["notify"]}`), http.StatusOK, "")
		}
		acctExpect(t, "one rule too many", acctDo(t, "PUT", v3+"/pushrules/global/sender/@x:y", c.AccessToken, `{"actions":["notify"]}`),
			http.StatusBadRequest, "M_BAD_JSON")
		acctExpect(t, "replacing an existing rule at the cap", acctDo(t, "PUT", v3+"/pushrules/global/room/!r0:x", c.AccessToken,
			`{"actions":["dont_notify"]}`), http.StatusOK, "")
	})
}

// The bounds as syncapi documents them (syncapi/routes_pushrules.go).
const (
	maxTestPushActions    = 20
	maxTestPushConditions = 20
	maxTestPushRules      = 200
)
