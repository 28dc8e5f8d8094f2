package appservice

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"

	"github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/internal/config"
)

// protocolsOf lists the appservices (with a URL) declaring protocol.
func (c *Component) protocolsOf(protocol string) []*config.AppService {
	var out []*config.AppService
	for _, reg := range c.cfg.AppServices {
		if reg.HasURL() && slices.Contains(reg.Protocols, protocol) {
			out = append(out, reg)
		}
	}
	return out
}

// ThirdPartyProtocols implements api.AppserviceAPI.
func (c *Component) ThirdPartyProtocols(ctx context.Context) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, reg := range c.cfg.AppServices {
		for _, p := range reg.Protocols {
			if _, done := out[p]; done {
				continue
			}
			if meta, err := c.ThirdPartyProtocol(ctx, p); err == nil {
				out[p] = meta
			}
		}
	}
	return out, nil
}

// ThirdPartyProtocol implements api.AppserviceAPI: the first answer's
// fields, with every answering appservice's instances, each given an
// instance_id ("<appservice id>|<network id>") unique on this server.
func (c *Component) ThirdPartyProtocol(ctx context.Context, protocol string) (json.RawMessage, error) {
	var merged map[string]any
	var instances []any
	for _, reg := range c.protocolsOf(protocol) {
		res, err := c.clients[reg.ID].do(ctx, queryTimeout, "GET", "/_matrix/app/v1/thirdparty/protocol/"+pathEscape(protocol), nil, nil)
		if err != nil || !res.ok() {
			c.log.Warn("appservice protocol lookup failed", "appservice", reg.ID, "protocol", protocol, "error", err)
			continue
		}
		var meta map[string]any
		if json.Unmarshal(res.Body, &meta) != nil {
			continue
		}
		if ins, ok := meta["instances"].([]any); ok {
			for _, in := range ins {
				if m, ok := in.(map[string]any); ok {
					network, _ := m["network_id"].(string)
					m["instance_id"] = reg.ID + "|" + network
					instances = append(instances, m)
				}
			}
		}
		if merged == nil {
			merged = meta
		}
	}
	if merged == nil {
		return nil, api.ErrUnknownProtocol
	}
	if instances == nil {
		instances = []any{}
	}
	merged["instances"] = instances
	return json.Marshal(merged)
}

// ThirdPartyLookup implements api.AppserviceAPI.
func (c *Component) ThirdPartyLookup(ctx context.Context, kind, protocol string, fields map[string][]string) ([]json.RawMessage, error) {
	apps := c.protocolsOf(protocol)
	path := "/_matrix/app/v1/thirdparty/" + kind
	if protocol == "" {
		for _, reg := range c.cfg.AppServices {
			if reg.HasURL() && len(reg.Protocols) > 0 {
				apps = append(apps, reg)
			}
		}
	} else {
		if len(apps) == 0 {
			return nil, api.ErrUnknownProtocol
		}
		path += "/" + pathEscape(protocol)
	}
	out := []json.RawMessage{}
	for _, reg := range apps {
		res, err := c.clients[reg.ID].do(ctx, queryTimeout, "GET", path, url.Values(fields), nil)
		if err != nil || !res.ok() {
			if err != nil {
				c.log.Warn("appservice third-party lookup failed", "appservice", reg.ID, "path", path, "error", err)
			}
			continue
		}
		var found []json.RawMessage
		if json.Unmarshal(res.Body, &found) == nil {
			out = append(out, found...)
		}
	}
	return out, nil
}
