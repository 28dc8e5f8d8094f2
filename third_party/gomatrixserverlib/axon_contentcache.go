package gomatrixserverlib

import (
	"encoding/json"
	"sync"
)

// Axon patch 6: the auth checks of every event parse the room's power
// levels and create event content again (Allowed builds a new
// allowerContext per event), although those change rarely. Parsed
// contents are kept here, keyed by the exact content bytes (and, for
// power levels, the room version, whose rules decide the parsing), so a
// changed or redacted event is simply a different key. The cached maps
// and pointers are shared: callers of NewPowerLevelContentFromEvent and
// the create-content helpers must treat them as read-only, which every
// caller does.

// contentCacheMax bounds each cache; when full it starts over.
const contentCacheMax = 1024

var parsedContents struct {
	mu          sync.RWMutex
	powerLevels map[RoomVersion]map[string]PowerLevelContent
	create      map[string]CreateContent
}

// cachedPowerLevels parses power levels content by verImpl's rules, or
// returns the result of an earlier parse of the same bytes. Contents
// that fail to parse are not cached.
func cachedPowerLevels(verImpl IRoomVersion, content []byte) (PowerLevelContent, error) {
	v := verImpl.Version()
	parsedContents.mu.RLock()
	c, ok := parsedContents.powerLevels[v][string(content)]
	parsedContents.mu.RUnlock()
	if ok {
		return c, nil
	}
	c.Defaults()
	if err := verImpl.ParsePowerLevels(content, &c); err != nil {
		return c, err
	}
	parsedContents.mu.Lock()
	if parsedContents.powerLevels == nil {
		parsedContents.powerLevels = map[RoomVersion]map[string]PowerLevelContent{}
	}
	m := parsedContents.powerLevels[v]
	if m == nil || len(m) >= contentCacheMax {
		m = map[string]PowerLevelContent{}
		parsedContents.powerLevels[v] = m
	}
	m[string(content)] = c
	parsedContents.mu.Unlock()
	return c, nil
}

// cachedCreateContent is json.Unmarshal of a create event's content into
// CreateContent (the exported fields only), cached like power levels.
func cachedCreateContent(content []byte) (CreateContent, error) {
	parsedContents.mu.RLock()
	c, ok := parsedContents.create[string(content)]
	parsedContents.mu.RUnlock()
	if ok {
		return c, nil
	}
	if err := json.Unmarshal(content, &c); err != nil {
		return CreateContent{}, err
	}
	parsedContents.mu.Lock()
	if parsedContents.create == nil || len(parsedContents.create) >= contentCacheMax {
		parsedContents.create = map[string]CreateContent{}
	}
	parsedContents.create[string(content)] = c
	parsedContents.mu.Unlock()
	return c, nil
}
