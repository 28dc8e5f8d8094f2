package matrixrules

import (
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// TombstoneLevel is the power level new rooms of version v require for
// m.room.tombstone: from v12 above the 100 of ordinary admins, so only
// creators can upgrade (MSC4289).
func TombstoneLevel(v string) int64 {
	if FeaturesOf(v).PrivilegedCreators {
		return 150
	}
	return 100
}

// CheckAdditionalCreators checks a v12+ create event's
// additional_creators: an array of user IDs. "" or the client's message.
func CheckAdditionalCreators(createContent []byte) string {
	ac := gjson.GetBytes(createContent, "additional_creators")
	if !ac.Exists() {
		return ""
	}
	if !ac.IsArray() {
		return "additional_creators must be an array of user IDs"
	}
	for _, u := range ac.Array() {
		if u.Type != gjson.String {
			return "additional_creators must be an array of user IDs"
		}
		if _, err := spec.NewUserID(u.Str, true); err != nil {
			return "additional_creators: " + u.Str + " is not a user ID"
		}
	}
	return ""
}

// CheckPowerLevelsCreators refuses power levels content that lists a
// privileged creator in users: creators are all-powerful in v12+ and a
// level for them would only mislead. "" or the client's message.
func CheckPowerLevelsCreators(creators []string, plContent []byte) string {
	msg := ""
	gjson.GetBytes(plContent, "users").ForEach(func(k, _ gjson.Result) bool {
		if slices.Contains(creators, k.Str) {
			msg = "power levels must not list the room creator " + k.Str
		}
		return msg == ""
	})
	return msg
}
