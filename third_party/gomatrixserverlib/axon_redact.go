package gomatrixserverlib

import (
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// Axon patch 9: signing a new event redacts it first, and
// RedactEventJSON decodes the event into a struct and encodes it again
// (a third of building a message). For a canonical event whose type
// keeps no content in any room version (every type but the few auth
// events the redaction rules name), the canonical redacted form is the
// event itself with only the top-level keys the version keeps and an
// empty content: redactedCanonical writes that directly. Which top-level
// keys a version keeps is learnt once by redacting a probe event with
// the version's own RedactEventJSON. TestRedactedCanonicalMatches holds
// it equal to CanonicalJSON(RedactEventJSON(...)) in every room version.

// redactionProbeKeys are every top-level key any version's redaction
// keeps (the fields of the unredactableEventFields* structs).
var redactionProbeKeys = []string{"auth_events", "content", "depth", "event_id", "hashes", "membership", "origin",
	"origin_server_ts", "prev_events", "prev_state", "prev_state_events", "room_id", "sender", "signatures", "state_key", "type"}

var redactionKeys sync.Map // RoomVersion → map[string]bool, or nil if unusable

// keptTopLevelKeys is the set of top-level keys ver's redaction keeps.
func keptTopLevelKeys(ver IRoomVersion) map[string]bool {
	if v, ok := redactionKeys.Load(ver.Version()); ok {
		m, _ := v.(map[string]bool)
		return m
	}
	var probe strings.Builder
	probe.WriteString(`{`)
	for i, k := range redactionProbeKeys {
		if i > 0 {
			probe.WriteByte(',')
		}
		switch k {
		case "content":
			probe.WriteString(`"content":{}`)
		case "type":
			probe.WriteString(`"type":"org.example.probe"`)
		default:
			probe.WriteString(`"` + k + `":"x"`)
		}
	}
	probe.WriteString(`,"unsigned":{},"org.example.other":1}`)
	var kept map[string]bool
	if out, err := ver.RedactEventJSON([]byte(probe.String())); err == nil {
		kept = map[string]bool{}
		gjson.ParseBytes(out).ForEach(func(k, _ gjson.Result) bool {
			kept[k.Str] = true
			return true
		})
		if !kept["type"] || !kept["content"] {
			kept = nil
		}
	}
	redactionKeys.Store(ver.Version(), kept)
	return kept
}

// contentKeepingTypes are the event types whose content some version's
// redaction keeps in part.
var contentKeepingTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, fields := range []map[string][]string{unredactableContentFieldsV1, unredactableContentFieldsV2,
		unredactableContentFieldsV3, unredactableContentFieldsV4, unredactableContentFieldsV5} {
		for t := range fields {
			m[t] = true
		}
	}
	return m
}()

// redactedCanonical is CanonicalJSON(ver.RedactEventJSON(canonical))
// for a canonical event; ok false where it cannot tell.
func redactedCanonical(canonical []byte, ver IRoomVersion) ([]byte, bool) {
	root := parseNoCopy(canonical)
	typ := root.Get("type")
	if !root.IsObject() || typ.Type != gjson.String || contentKeepingTypes[typ.Str] || !root.Get("content").IsObject() {
		return nil, false
	}
	kept := keptTopLevelKeys(ver)
	if kept == nil {
		return nil, false
	}
	out := make([]byte, 0, len(canonical))
	out = append(out, '{')
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		if strings.IndexByte(k.Raw, '\\') >= 0 {
			ok = false
			return false
		}
		if !kept[k.Str] {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, k.Raw...)
		out = append(out, ':')
		if k.Str == "content" {
			out = append(out, '{', '}')
		} else {
			out = append(out, v.Raw...)
		}
		return true
	})
	return append(out, '}'), ok
}
