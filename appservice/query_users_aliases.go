package appservice

import (
	"context"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// QueryUserID implements api.AppserviceAPI.
func (c *Component) QueryUserID(ctx context.Context, userID string) (bool, error) {
	return c.query(ctx, "/_matrix/app/v1/users/"+pathEscape(userID), func(a *config.AppService) bool { return a.InUserNamespace(userID) })
}

// QueryRoomAlias implements api.AppserviceAPI.
func (c *Component) QueryRoomAlias(ctx context.Context, alias string) (bool, error) {
	return c.query(ctx, "/_matrix/app/v1/rooms/"+pathEscape(alias), func(a *config.AppService) bool { return a.InAliasNamespace(alias) })
}

// query asks each appservice whose namespace covers the entity, in
// registration order, until one says it exists. A bridge that fails is
// logged and skipped: the entity then just does not exist.
func (c *Component) query(ctx context.Context, path string, covers func(*config.AppService) bool) (bool, error) {
	for _, reg := range c.cfg.AppServices {
		if !reg.HasURL() || !covers(reg) {
			continue
		}
		start := time.Now()
		res, err := c.clients[reg.ID].do(ctx, queryTimeout, "GET", path, nil, nil)
		if err != nil {
			c.log.Warn("appservice query failed", "appservice", reg.ID, "path", path, "error", err, "after", time.Since(start))
			continue
		}
		if res.ok() {
			return true, nil
		}
	}
	return false, nil
}
