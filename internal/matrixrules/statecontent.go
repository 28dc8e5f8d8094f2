package matrixrules

import (
	"strconv"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// powerLevelInts are the power levels keys holding one level.
var powerLevelInts = []string{"ban", "kick", "redact", "invite", "events_default", "state_default", "users_default"}

// powerLevelMaps are the power levels keys holding name -> level.
var powerLevelMaps = []string{"events", "users", "notifications"}

// CheckStateContent checks the field types of the state events this
// server reads (name, topic, canonical alias, power levels, join rules),
// so a wrongly typed one is refused when sent rather than misread later.
// It returns "" or the client's message. Absent fields are fine.
func CheckStateContent(evType string, content []byte) string {
	c := gjson.ParseBytes(content)
	switch evType {
	case spec.MRoomName:
		return stringField(c, "name")
	case spec.MRoomTopic:
		return stringField(c, "topic")
	case spec.MRoomCanonicalAlias:
		_, msg := CheckCanonicalAliasShape(content)
		return msg
	case spec.MRoomJoinRules:
		// allow is not checked: other servers accept any value, and one
		// that is not a list of conditions grants nothing
		// (AllowedRoomIDs), so a restricted room stays invite-only.
		return stringField(c, "join_rule")
	case spec.MRoomPowerLevels:
		for _, k := range powerLevelInts {
			if v := c.Get(k); v.Exists() && !isLevel(v) {
				return k + " must be an integer"
			}
		}
		for _, k := range powerLevelMaps {
			m := c.Get(k)
			if !m.Exists() {
				continue
			}
			if !m.IsObject() {
				return k + " must be an object"
			}
			msg := ""
			m.ForEach(func(key, v gjson.Result) bool {
				if !isLevel(v) {
					msg = k + "." + key.Str + " must be an integer"
				}
				return msg == ""
			})
			if msg != "" {
				return msg
			}
		}
	}
	return ""
}

func stringField(c gjson.Result, key string) string {
	if v := c.Get(key); v.Exists() && v.Type != gjson.String {
		return key + " must be a string"
	}
	return ""
}

// isLevel: an integer, or (as room versions before 10 allow) a string
// holding one.
func isLevel(v gjson.Result) bool {
	switch v.Type {
	case gjson.Number:
		_, err := strconv.ParseInt(v.Raw, 10, 64)
		return err == nil
	case gjson.String:
		_, err := strconv.ParseInt(v.Str, 10, 64)
		return err == nil
	}
	return false
}
