package matrixrules

import (
	"strings"

	"github.com/tidwall/gjson"
)

// maxMediaURIsPerEvent bounds what one event's content can name (a 64 KiB
// event holds at most a few thousand URIs anyway).
const maxMediaURIsPerEvent = 1000

// MediaURIs lists the mxc:// URIs an event's content refers to: every
// string value of the form mxc://server/id, at any depth (url,
// info.thumbnail_url, file.url, avatar_url, custom fields), once each.
func MediaURIs(content []byte) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if len(out) >= maxMediaURIsPerEvent || depth > 64 {
			return
		}
		switch {
		case v.Type == gjson.String:
			if s := v.Str; strings.HasPrefix(s, "mxc://") && !seen[s] {
				if _, _, ok := SplitMXC(s); ok {
					seen[s] = true
					out = append(out, s)
				}
			}
		case v.IsObject() || v.IsArray():
			v.ForEach(func(_, child gjson.Result) bool {
				walk(child, depth+1)
				return len(out) < maxMediaURIsPerEvent
			})
		}
	}
	walk(gjson.ParseBytes(content), 0)
	return out
}

// SplitMXC splits mxc://server/mediaID; ok is false when either part is
// empty or the media ID has a slash (such URIs name no media).
func SplitMXC(uri string) (server, mediaID string, ok bool) {
	rest, found := strings.CutPrefix(uri, "mxc://")
	if !found {
		return "", "", false
	}
	server, mediaID, found = strings.Cut(rest, "/")
	if !found || server == "" || mediaID == "" || strings.Contains(mediaID, "/") {
		return "", "", false
	}
	return server, mediaID, true
}
