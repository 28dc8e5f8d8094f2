package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExampleParsesToDefaults(t *testing.T) {
	cfg, err := Parse([]byte(Example("example.org")))
	if err != nil {
		t.Fatalf("example config does not parse: %v", err)
	}
	if cfg.ServerName != "example.org" || cfg.Registration.Mode != "closed" || cfg.Rooms.DefaultVersion != "10" {
		t.Fatalf("unexpected values: %+v", cfg)
	}
	def := Defaults()
	def.ServerName = "example.org"
	def.Federation.TrustedKeyServers = []string{"matrix.org"}
	if cfg.Listeners != def.Listeners || cfg.RateLimits.Login != def.RateLimits.Login || cfg.Limits != def.Limits {
		t.Fatalf("example and defaults disagree:\n%+v\n%+v", cfg, def)
	}
}

func TestEmptyConfigIsDefaults(t *testing.T) {
	if _, err := Parse(nil); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"server_nmae: x\n":                              "server_nmae",
		"registration:\n  mode: sometimes\n":            "registration.mode",
		"listeners:\n  client:\n    address: nope\n":    "listeners.client.address",
		"database:\n  default: mysql://x\n":             "database.default",
		"rooms:\n  default_version: \"99\"\n":           "rooms.default_version",
		"logging:\n  level: loud\n":                     "logging.level",
		"registration:\n  mode: token\n":                "registration.tokens",
		"rate_limits:\n  login:\n    per_second: abc\n": "line 3",
		"nats:\n  urls: [\"http://x\"]\n":               "nats.urls[0]",
	}
	for input, key := range cases {
		_, err := Parse([]byte(input))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v does not name %q", input, err, key)
		}
	}
}

func TestSigningKeyCreatedAndReloaded(t *testing.T) {
	dir := t.TempDir()
	cfg := Defaults()
	cfg.DataDir = dir
	if err := cfg.LoadSigningKey(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "signing.key")); err != nil {
		t.Fatal(err)
	}
	cfg2 := Defaults()
	cfg2.DataDir = dir
	if err := cfg2.LoadSigningKey(); err != nil {
		t.Fatal(err)
	}
	if !cfg.SigningKey.Equal(cfg2.SigningKey) || cfg.KeyID != cfg2.KeyID || !strings.HasPrefix(cfg.KeyID, "ed25519:") {
		t.Fatal("reloaded key differs")
	}
}

func TestDatabaseDSN(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = "/d"
	if got := cfg.DatabaseDSN("userapi"); got != "/d/userapi.db" {
		t.Fatal(got)
	}
	cfg.Database.Default = "postgres://x/y"
	cfg.Database.SyncAPI = "sqlite:/s.db"
	if cfg.DatabaseDSN("userapi") != "postgres://x/y" || cfg.DatabaseDSN("syncapi") != "sqlite:/s.db" {
		t.Fatal("override not applied")
	}
}
