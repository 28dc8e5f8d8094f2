package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
	// Compared as YAML, so a list written "[]" in the example equals an
	// unset one.
	if got, want := asYAML(t, cfg), asYAML(t, def); got != want {
		t.Fatalf("example and defaults disagree:\nexample:\n%s\ndefaults:\n%s", got, want)
	}
}

func asYAML(t *testing.T, cfg *Config) string {
	t.Helper()
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// An empty or comment-only file must mean "every default", so an operator
// who deletes a section gets exactly what Defaults documents.
func TestEmptyConfigIsDefaults(t *testing.T) {
	for _, doc := range []string{"", "\n", "# nothing but a comment\n", "---\n"} {
		got, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if want := Defaults(); !reflect.DeepEqual(got, want) {
			t.Errorf("%q parsed to\n%+v\nwant the defaults\n%+v", doc, got, want)
		}
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"server_nmae: x\n":                                            "server_nmae",
		"registration:\n  mode: sometimes\n":                          "registration.mode",
		"listeners:\n  client:\n    address: nope\n":                  "listeners.client.address",
		"database:\n  default: mysql://x\n":                           "database.default",
		"rooms:\n  default_version: \"99\"\n":                         "rooms.default_version",
		"logging:\n  level: loud\n":                                   "logging.level",
		"rate_limits:\n  login:\n    per_second: abc\n":               "line 3",
		"nats:\n  urls: [\"http://x\"]\n":                             "nats.urls[0]",
		"limits:\n  body_timeout: 0s\n":                               "limits.body_timeout",
		"limits:\n  header_timeout: 10ms\n":                           "limits.header_timeout",
		"limits:\n  max_connections_per_ip: -1\n":                     "limits.max_connections_per_ip",
		"federation:\n  allowed_private_networks: [nope]\n":           "federation.allowed_private_networks[0]",
		"rate_limits:\n  typing:\n    per_second: -1\n":               "rate_limits.typing",
		"push:\n  allowed_private_networks: [nope]\n":                 "push.allowed_private_networks[0]",
		"support:\n  contacts: [{role: boss, matrix_id: \"@a:b\"}]\n": "support.contacts[0].role",
		"support:\n  contacts: [{role: m.role.admin}]\n":              "support.contacts[0]",
		"voip:\n  turn_uris: [\"turn:x\"]\n":                          "voip.turn_shared_secret",
		"voip:\n  turn_uris: [\"http://x\"]\n":                        "voip.turn_uris[0]",
		"rate_limits:\n  reports:\n    per_second: -1\n":              "rate_limits.reports",
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

// TestPartitioningNeedsWhatItRunsOn: an instance name only works with one
// replicated component in this process, an external NATS and PostgreSQL.
func TestPartitioningNeedsWhatItRunsOn(t *testing.T) {
	ok := "server_name: x\nnats: {urls: [\"nats://n:4222\"]}\ndatabase: {default: \"postgres://db/axon\"}\ncomponents: [roomserver]\n"
	if _, err := Parse([]byte(ok + "partitioning: {instance: rs-1}\n")); err != nil {
		t.Fatalf("a valid partitioned roomserver refused: %v", err)
	}
	for _, comp := range []string{"syncapi", "keyserver", "appservice", "federationapi"} {
		if _, err := Parse([]byte(strings.Replace(ok, "[roomserver]", "["+comp+"]", 1) + "partitioning: {instance: r-1}\n")); err != nil {
			t.Fatalf("a valid %s replica refused: %v", comp, err)
		}
	}
	cases := map[string]string{
		"server_name: x\npartitioning: {instance: rs-1}\n":                                                                 "external NATS",
		"server_name: x\nnats: {urls: [\"nats://n:4222\"]}\npartitioning: {instance: rs-1}\n":                              "PostgreSQL",
		"server_name: x\nnats: {urls: [\"nats://n:4222\"]}\ncomponents: [federationapi]\npartitioning: {instance: fs-1}\n": "PostgreSQL database for the federationapi",
		ok + "partitioning: {instance: \"rs 1\"}\n":                                                                        "partitioning.instance",
		ok + "partitioning: {instance: rs-1, partitions: 0}\n":                                                             "partitioning.partitions",
		ok + "partitioning: {instance: rs-1, lease_ttl: 100ms}\n":                                                          "partitioning.lease_ttl",
		strings.Replace(ok, "[roomserver]", "[clientapi]", 1) + "partitioning: {instance: rs-1}\n":                         "only one of roomserver",
		strings.Replace(ok, "[roomserver]", "[keyserver, appservice]", 1) + "partitioning: {instance: rs-1}\n":             "only one of roomserver",
		strings.Replace(ok, "[roomserver]", "[roomserver, federationapi]", 1) + "partitioning: {instance: rs-1}\n":         "only one of roomserver",
		strings.Replace(ok, "[roomserver]", "[syncapi, pushserver]", 1) + "partitioning: {instance: rs-1}\n":               "only one of roomserver",
		strings.Replace(ok, "components: [roomserver]\n", "", 1) + "partitioning: {instance: rs-1}\n":                      "only one of roomserver",
	}
	for input, want := range cases {
		if _, err := Parse([]byte(input)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v does not say %q", input, err, want)
		}
	}
}
