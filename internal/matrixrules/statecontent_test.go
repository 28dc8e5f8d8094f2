package matrixrules

import (
	"testing"

	gmspec "github.com/matrix-org/gomatrixserverlib/spec"
)

func TestCheckStateContent(t *testing.T) {
	for _, tc := range []struct {
		evType, content string
		ok              bool
	}{
		{"m.room.name", `{"name":"x"}`, true},
		{"m.room.name", `{}`, true},
		{"m.room.name", `{"name":1}`, false},
		{"m.room.topic", `{"topic":null}`, false},
		{"m.room.join_rules", `{"join_rule":"restricted","allow":[]}`, true},
		{"m.room.join_rules", `{"join_rule":"restricted","allow":"x"}`, true}, // grants nothing (AllowedRoomIDs)
		{"m.room.power_levels", `{"ban":50,"users":{"@a:b":"100"},"events":{"m.room.name":0}}`, true},
		{"m.room.power_levels", `{"ban":5.5}`, false},
		{"m.room.power_levels", `{"notifications":{"room":true}}`, false},
		{"m.room.canonical_alias", `{"alt_aliases":[null]}`, false},
		{"org.example.other", `{"name":1}`, true},
	} {
		if got := CheckStateContent(tc.evType, []byte(tc.content)); (got == "") != tc.ok {
			t.Errorf("%s %s: %q, want ok=%v", tc.evType, tc.content, got, tc.ok)
		}
	}
}

func TestServerACLAllows(t *testing.T) {
	acl := ParseServerACL([]byte(`{"allow":["*.Example.org","good.net"],"deny":["bad.example.org"],"allow_ip_literals":false}`))
	for server, want := range map[string]bool{
		"a.example.org": true, "A.EXAMPLE.ORG:8448": true, "good.net": true,
		"bad.example.org": false, "other.net": false, "127.0.0.1": false,
	} {
		if got := acl.Allows(gmspec.ServerName(server)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", server, got, want)
		}
	}
	if CheckServerACLKeepsSelf([]byte(`{"allow":["*"]}`), "me.org") != "" || CheckServerACLKeepsSelf([]byte(`{"allow":["*"],"deny":["me.org"]}`), "me.org") == "" {
		t.Error("CheckServerACLKeepsSelf")
	}
}

func TestCreatorRules(t *testing.T) {
	if CheckAdditionalCreators([]byte(`{"additional_creators":["@a:b"]}`)) != "" ||
		CheckAdditionalCreators([]byte(`{"additional_creators":["a"]}`)) == "" ||
		CheckAdditionalCreators([]byte(`{"additional_creators":{}}`)) == "" {
		t.Error("CheckAdditionalCreators")
	}
	if CheckPowerLevelsCreators([]string{"@c:s"}, []byte(`{"users":{"@c:s":100}}`)) == "" ||
		CheckPowerLevelsCreators([]string{"@c:s"}, []byte(`{"users":{"@d:s":100}}`)) != "" {
		t.Error("CheckPowerLevelsCreators")
	}
	if TombstoneLevel("12") != 150 || TombstoneLevel("11") != 100 {
		t.Error("TombstoneLevel")
	}
}
