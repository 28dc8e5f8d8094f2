package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodRegistration = `id: irc
url: "http://127.0.0.1:9999"
as_token: as-secret
hs_token: hs-secret
sender_localpart: _irc_bot
rate_limited: false
protocols: [irc]
receive_ephemeral: true
namespaces:
  users:
    - exclusive: true
      regex: "@_irc_.*"
  aliases:
    - exclusive: false
      regex: "#_irc_.*"
  rooms: []
`

// loadWithRegistrations writes files into a data dir and loads them.
func loadWithRegistrations(t *testing.T, files ...string) (*Config, []string, error) {
	t.Helper()
	cfg := Defaults()
	cfg.ServerName = "example.org"
	cfg.DataDir = t.TempDir()
	for i, body := range files {
		name := filepath.Join(cfg.DataDir, "reg"+string(rune('a'+i))+".yaml")
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.AppServicePaths = append(cfg.AppServicePaths, filepath.Base(name))
	}
	warnings, err := cfg.LoadAppServices()
	return cfg, warnings, err
}

func TestAppServiceRegistrationLoads(t *testing.T) {
	cfg, warnings, err := loadWithRegistrations(t, goodRegistration+"io.element.msc4190: true\nfi.mau.future_thing: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "fi.mau.future_thing") || !strings.Contains(warnings[0], "rega.yaml") {
		t.Fatalf("warnings %v should name the unknown key and file", warnings)
	}
	as := cfg.AppServiceByToken("as-secret")
	if as == nil || as.ID != "irc" || !as.HasURL() || as.IsRateLimited() || !as.WantsEphemeral() || !as.MSC4190 {
		t.Fatalf("registration not read as written: %+v", as)
	}
	if cfg.AppServiceByToken("hs-secret") != nil {
		t.Fatal("hs_token must not authenticate")
	}
	for user, want := range map[string]bool{"@_irc_bob:example.org": true, "@bob:example.org": false, "@_irc_bot:example.org": true, "@x_@_irc_y:example.org": false} {
		if got := as.OwnsUser(user, "example.org"); got != want {
			t.Errorf("OwnsUser(%s) = %v, want %v", user, got, want)
		}
	}
	if cfg.ExclusiveUserOwner("@_irc_bob:example.org") != as || cfg.ExclusiveUserOwner("@bob:example.org") != nil {
		t.Error("exclusive user owner wrong")
	}
	if !as.InAliasNamespace("#_irc_chan:example.org") || cfg.ExclusiveAliasOwner("#_irc_chan:example.org") != nil {
		t.Error("non-exclusive alias namespace wrong")
	}
}

func TestAppServiceURLMayBeNull(t *testing.T) {
	cfg, _, err := loadWithRegistrations(t, strings.Replace(goodRegistration, `url: "http://127.0.0.1:9999"`, "url: null", 1))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppServices[0].HasURL() {
		t.Fatal("url: null must mean no pushes")
	}
}

func TestAppServiceRegistrationErrorsNameFileAndKey(t *testing.T) {
	other := strings.NewReplacer("id: irc", "id: slack", "as-secret", "as-2", "hs-secret", "hs-2", "_irc_bot", "_slack_bot", "@_irc_", "@_slack_").Replace(goodRegistration)
	cases := []struct {
		name  string
		files []string
		want  []string
	}{
		{"bad regex", []string{strings.Replace(goodRegistration, `"@_irc_.*"`, `"@_irc_(["`, 1)}, []string{"rega.yaml", "namespaces.users[0].regex"}},
		{"no id", []string{strings.Replace(goodRegistration, "id: irc\n", "", 1)}, []string{"rega.yaml", "id: must be set"}},
		{"no url key", []string{strings.Replace(goodRegistration, "url: \"http://127.0.0.1:9999\"\n", "", 1)}, []string{"url: must be set"}},
		{"bad url", []string{strings.Replace(goodRegistration, "http://127.0.0.1:9999", "ftp://x", 1)}, []string{"url:"}},
		{"no as_token", []string{strings.Replace(goodRegistration, "as_token: as-secret\n", "", 1)}, []string{"as_token: must be set"}},
		{"same tokens", []string{strings.Replace(goodRegistration, "hs-secret", "as-secret", 1)}, []string{"hs_token: must differ"}},
		{"bad sender", []string{strings.Replace(goodRegistration, "_irc_bot", "bad:bot", 1)}, []string{"sender_localpart"}},
		{"no namespaces", []string{goodRegistration[:strings.Index(goodRegistration, "namespaces:")]}, []string{"namespaces: must be set"}},
		{"not yaml", []string{"id: [unclosed"}, []string{"rega.yaml", "not a YAML registration"}},
		{"wrong type", []string{strings.Replace(goodRegistration, "rate_limited: false", "rate_limited: sometimes", 1)}, []string{"rega.yaml", "line 6"}},
		{"duplicate id", []string{goodRegistration, strings.NewReplacer("as-secret", "as-2", "hs-secret", "hs-2").Replace(goodRegistration)}, []string{"regb.yaml", "id is the same as in", "rega.yaml"}},
		{"duplicate as_token", []string{goodRegistration, strings.Replace(other, "as-2", "as-secret", 1)}, []string{"regb.yaml", "as_token is the same"}},
		{"duplicate hs_token", []string{goodRegistration, strings.Replace(other, "hs-2", "hs-secret", 1)}, []string{"regb.yaml", "hs_token is the same"}},
		{"sender in other's exclusive namespace", []string{goodRegistration, strings.Replace(other, "sender_localpart: _slack_bot", "sender_localpart: _irc_slackbot", 1)}, []string{"regb.yaml", "sender_localpart", "exclusive user namespace of irc"}},
		{"missing file", nil, []string{"app_services[0]", "no such file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.files == nil {
				cfg := Defaults()
				cfg.DataDir = t.TempDir()
				cfg.AppServicePaths = []string{"missing.yaml"}
				_, err = cfg.LoadAppServices()
			} else {
				_, _, err = loadWithRegistrations(t, c.files...)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadReadsAppServices(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "irc.yaml"), []byte(strings.Replace(goodRegistration, `"@_irc_.*"`, `"(("`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "axon.yaml")
	body := "server_name: example.org\ndata_dir: " + dir + "\napp_services: [irc.yaml]\n"
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(cfgPath)
	if err == nil || !strings.Contains(err.Error(), "irc.yaml") || !strings.Contains(err.Error(), "namespaces.users[0].regex") {
		t.Fatalf("Load should refuse the bad registration naming file and key, got %v", err)
	}
	if _, err := Parse([]byte("app_services: [\"\"]\n")); err == nil || !strings.Contains(err.Error(), "app_services[0]") {
		t.Fatalf("empty path: %v", err)
	}
}

func FuzzParseAppService(f *testing.F) {
	f.Add([]byte(goodRegistration))
	f.Add([]byte("url: null\nnamespaces: {}\n"))
	f.Add([]byte("namespaces:\n  users:\n    - regex: \"(\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, _, err := ParseAppService(data)
		if err == nil && (reg.ID == "" || reg.ASToken == "" || reg.HSToken == "") {
			t.Fatalf("accepted an incomplete registration: %+v", reg)
		}
	})
}
