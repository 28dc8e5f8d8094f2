package adminapi

import (
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// The order_by values of GET /v2/users that Axon can sort by.
var userOrders = map[string]bool{
	"name": true, "creation_ts": true, "admin": true, "deactivated": true, "is_guest": true, "displayname": true,
}

// listUsers: GET /_synapse/admin/v2/users?from&limit&name&user_id&guests&deactivated&admins&order_by&dir.
func (a *AdminAPI) listUsers(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	q := req.URL.Query()
	from, limit, errResp := paging(req, 100)
	if errResp != nil {
		return *errResp
	}
	query := uapi.AccountsQuery{From: from, Limit: limit, Name: q.Get("name")}
	if query.Name == "" {
		query.Name = q.Get("user_id")
	}
	if len(query.Name) > 255 {
		return httputil.InvalidParam("name is at most 255 bytes")
	}
	var e *httputil.JSONResponse
	if query.Guests, e = boolParam(req, "guests", true); e != nil {
		return *e
	}
	if query.Deactivated, e = boolParam(req, "deactivated", false); e != nil {
		return *e
	}
	if s := q.Get("admins"); s != "" {
		admins, e := boolParam(req, "admins", false)
		if e != nil {
			return *e
		}
		query.Admins = &admins
	}
	if o := q.Get("order_by"); o != "" {
		if !userOrders[o] {
			return httputil.InvalidParam("order_by %q is not supported", o)
		}
		query.OrderBy = o
	}
	switch q.Get("dir") {
	case "", "f":
	case "b":
		query.Desc = true
	default:
		return httputil.InvalidParam("dir must be f or b")
	}
	page, err := a.users.QueryAccounts(req.Context(), query)
	if err != nil {
		return a.fail(err, "list users")
	}
	users := make([]userJSON, 0, len(page.Accounts))
	for i := range page.Accounts {
		users = append(users, newUserJSON(&page.Accounts[i].Account, page.Accounts[i].DisplayName, page.Accounts[i].AvatarURL))
	}
	body := map[string]any{"users": users, "total": page.Total}
	if next := from + len(users); next < page.Total {
		body["next_token"] = strconv.Itoa(next)
	}
	return httputil.OK(body)
}

// paging reads from (an offset) and limit (1..1000, default def).
func paging(req *http.Request, def int) (from, limit int, errResp *httputil.JSONResponse) {
	q := req.URL.Query()
	from, limit = 0, def
	if s := q.Get("from"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			r := httputil.InvalidParam("from must be a non-negative integer")
			return 0, 0, &r
		}
		from = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			r := httputil.InvalidParam("limit must be a non-negative integer")
			return 0, 0, &r
		}
		limit = min(max(n, 1), 1000)
	}
	return from, limit, nil
}
