// Package config loads, defaults and validates axon.yaml, and writes the
// commented example that `axon generate-config` prints.
package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// Config is the whole of axon.yaml.
type Config struct {
	ServerName string `yaml:"server_name"`
	// PublicBaseURL is what /.well-known/matrix/client advertises.
	PublicBaseURL string `yaml:"public_base_url"`
	// WellKnownServer is what /.well-known/matrix/server advertises
	// (host:port of the federation listener as seen from outside).
	WellKnownServer string `yaml:"well_known_server"`
	DataDir         string `yaml:"data_dir"`
	// TrustedProxies are reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For header names the real client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	SigningKeyPath string   `yaml:"signing_key_path"`

	Listeners    Listeners    `yaml:"listeners"`
	Database     Database     `yaml:"database"`
	NATS         NATS         `yaml:"nats"`
	Registration Registration `yaml:"registration"`
	RateLimits   RateLimits   `yaml:"rate_limits"`
	Logging      Logging      `yaml:"logging"`
	Limits       Limits       `yaml:"limits"`
	Rooms        Rooms        `yaml:"rooms"`
	Presence     Presence     `yaml:"presence"`
	Federation   Federation   `yaml:"federation"`
	Push         Push         `yaml:"push"`
	// Support is what /.well-known/matrix/support advertises.
	Support Support `yaml:"support"`
	// VoIP hands out TURN credentials (GET /voip/turnServer).
	VoIP VoIP `yaml:"voip"`
	// UserDirectory shapes POST /user_directory/search.
	UserDirectory UserDirectory `yaml:"user_directory"`
	Media         Media         `yaml:"media"`
	// ServerNotices: the spec's server notices room, written to by the
	// admin API's send_server_notice.
	ServerNotices ServerNotices `yaml:"server_notices"`

	// Components to run; empty runs all (monolith).
	Components []string `yaml:"components"`
	// Partitioning runs several roomserver processes (docs/scaling.md).
	Partitioning Partitioning `yaml:"partitioning"`

	// AppServicePaths are application service registration files
	// (bridges, bots), relative to data_dir unless absolute.
	AppServicePaths []string `yaml:"app_services"`
	// AppServices are the loaded registrations (LoadAppServices), and
	// AppServiceWarnings what was noticed but accepted while loading them.
	AppServices        []*AppService `yaml:"-"`
	AppServiceWarnings []string      `yaml:"-"`
	appServiceTokens   map[string]*AppService

	// Resolved at load time.
	SigningKey ed25519.PrivateKey `yaml:"-"`
	KeyID      string             `yaml:"-"`
	// Path the config was loaded from (for resolving relative paths).
	path string
}

type Listener struct {
	// Address to listen on, "host:port". Empty disables the listener.
	Address string `yaml:"address"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

type Listeners struct {
	Client     Listener `yaml:"client"`
	Federation Listener `yaml:"federation"`
	Metrics    Listener `yaml:"metrics"`
}

type Database struct {
	// Default DSN for every component: "sqlite" (one file per component in
	// data_dir) or "postgres://user@host/db".
	Default    string `yaml:"default"`
	UserAPI    string `yaml:"userapi"`
	RoomServer string `yaml:"roomserver"`
	SyncAPI    string `yaml:"syncapi"`
	KeyServer  string `yaml:"keyserver"`
	MediaAPI   string `yaml:"mediaapi"`
	Federation string `yaml:"federationapi"`
	AppService string `yaml:"appservice"`
}

type NATS struct {
	// URLs of an external NATS JetStream cluster; empty runs NATS embedded.
	URLs     []string `yaml:"urls"`
	Prefix   string   `yaml:"prefix"`
	Replicas int      `yaml:"replicas"`
}

// Partitioning shares room input among several roomserver processes, and
// the stream consumers among several syncapi processes (one writes).
type Partitioning struct {
	// Instance names this process among the processes of its component
	// (roomserver, syncapi, keyserver, appservice, federationapi); empty
	// runs one of it.
	Instance string `yaml:"instance"`
	// Partitions rooms (and federation destinations) are hashed into;
	// the same in every process.
	Partitions int `yaml:"partitions"`
	// LeaseTTL is how long a partition lease lasts unrenewed: a dead
	// process's partitions move this long after its last renewal.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

type Registration struct {
	// Mode: closed, open, token (registration tokens), shared_secret.
	Mode           string   `yaml:"mode"`
	SharedSecret   string   `yaml:"shared_secret"`
	Tokens         []string `yaml:"tokens"`
	AllowGuests    bool     `yaml:"allow_guests"`
	MinPasswordLen int      `yaml:"min_password_length"`
	// PasswordHashCost is the bcrypt cost (4-14): each +1 doubles the
	// CPU a login costs.
	PasswordHashCost int `yaml:"password_hash_cost"`
	// AccessTokenLifetime > 0 issues expiring access tokens with refresh
	// tokens to clients that ask for them.
	AccessTokenLifetime time.Duration `yaml:"access_token_lifetime"`
	// GetLoginToken lets a logged-in user mint a single-use login token
	// (POST /login/get_token, after re-entering their password) for
	// logging another device in with m.login.token (spec 1.7).
	GetLoginToken bool `yaml:"get_login_token"`
}

type Rate struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

type RateLimits struct {
	Enabled bool `yaml:"enabled"`
	// Login: per client IP and per user.
	Login Rate `yaml:"login"`
	// Registration: per client IP.
	Registration Rate `yaml:"registration"`
	// Messages: events sent per user.
	Messages Rate `yaml:"messages"`
	// RoomCreation, Typing and ToDevice: requests per user.
	RoomCreation Rate `yaml:"room_creation"`
	Typing       Rate `yaml:"typing"`
	ToDevice     Rate `yaml:"to_device"`
	// MediaUploads: uploads (and /create) per user.
	MediaUploads Rate `yaml:"media_uploads"`
	// Reports: content reports (rooms, events, users) per user.
	Reports Rate `yaml:"reports"`
	// ExemptIPs are never rate-limited (e.g. a bridge on localhost).
	ExemptIPs []string `yaml:"exempt_ips"`
}

type ServerNotices struct {
	Enabled bool `yaml:"enabled"`
	// Localpart of the user that sends notices (created on first use).
	Localpart   string `yaml:"localpart"`
	DisplayName string `yaml:"display_name"`
	// RoomName of each user's notices room.
	RoomName string `yaml:"room_name"`
}

// ServerNoticesUserID is the user that sends server notices and creates
// every user's notices room ("" when server notices are off): a room
// whose creator it is, is a server notices room.
func (c *Config) ServerNoticesUserID() string {
	if !c.ServerNotices.Enabled {
		return ""
	}
	return "@" + c.ServerNotices.Localpart + ":" + c.ServerName
}

type Logging struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
	// AccessLog logs one line per HTTP request (method, route, status,
	// duration, user) at info level.
	AccessLog bool `yaml:"access_log"`
}

type Limits struct {
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
	MaxUploadBytes  int64 `yaml:"max_upload_bytes"`
	// HeaderTimeout bounds reading a request's headers, BodyTimeout its
	// body (per max_request_bytes: larger uploads get proportionally
	// more), IdleTimeout an idle keep-alive connection.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	BodyTimeout   time.Duration `yaml:"body_timeout"`
	IdleTimeout   time.Duration `yaml:"idle_timeout"`
	// MaxConnectionsPerIP caps open connections from one client IP on
	// each listener (trusted proxies excepted); 0 disables.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// MemoryLimitMB is a soft limit for the Go heap (GOMEMLIMIT); 0 leaves
	// Go's default (heap may grow to twice what is live).
	MemoryLimitMB int64 `yaml:"memory_limit_mb"`
}

type Rooms struct {
	DefaultVersion string `yaml:"default_version"`
}

type Presence struct {
	Enabled bool `yaml:"enabled"`
}

// Support lists whom to contact about this server (MSC1929, spec 1.10).
type Support struct {
	Contacts    []SupportContact `yaml:"contacts"`
	SupportPage string           `yaml:"support_page"`
}

// SupportContact is one admin or security contact.
type SupportContact struct {
	// Role is m.role.admin or m.role.security.
	Role         string `yaml:"role"`
	MatrixID     string `yaml:"matrix_id"`
	EmailAddress string `yaml:"email_address"`
}

// VoIP configures TURN with coturn's shared-secret scheme
// (use-auth-secret / static-auth-secret).
type VoIP struct {
	TURNURIs         []string `yaml:"turn_uris"`
	TURNSharedSecret string   `yaml:"turn_shared_secret"`
	// TURNUserLifetimeSeconds is how long credentials are valid.
	TURNUserLifetimeSeconds int  `yaml:"turn_user_lifetime_seconds"`
	TURNAllowGuests         bool `yaml:"turn_allow_guests"`
}

// UserDirectory: whom a user directory search finds.
type UserDirectory struct {
	// SearchAllUsers finds every local user, not only those sharing a
	// room with the searcher or in a public room.
	SearchAllUsers bool `yaml:"search_all_users"`
}

// Push configures delivery to push gateways (pushserver).
type Push struct {
	// AllowedPrivateNetworks are non-public IPs/CIDRs push gateways may
	// still be on (as federation.allowed_private_networks): users choose
	// gateway URLs, so by default they cannot make the server POST into
	// its own network.
	AllowedPrivateNetworks []string `yaml:"allowed_private_networks"`
}

type Federation struct {
	Enabled bool `yaml:"enabled"`
	// InsecureSkipVerify disables TLS certificate checks towards other
	// servers. Only for private test networks.
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
	TrustedKeyServers  []string `yaml:"trusted_key_servers"`
	// AllowedPrivateNetworks are non-public IPs/CIDRs (loopback, private,
	// link-local…) that outbound federation may still connect to; all
	// others are refused, so a server name cannot point us at our own
	// network.
	AllowedPrivateNetworks []string `yaml:"allowed_private_networks"`
}

// Defaults returns a config with every default filled in.
func Defaults() *Config {
	return &Config{
		ServerName:     "localhost:8008",
		DataDir:        "./data",
		SigningKeyPath: "signing.key",
		Listeners: Listeners{
			Client:     Listener{Address: "127.0.0.1:8008"},
			Federation: Listener{Address: ""},
			Metrics:    Listener{Address: "127.0.0.1:9108"},
		},
		Database:     Database{Default: "sqlite"},
		NATS:         NATS{Prefix: "axon", Replicas: 1},
		Partitioning: Partitioning{Partitions: 64, LeaseTTL: 5 * time.Second},
		Registration: Registration{
			Mode:             "closed",
			MinPasswordLen:   8,
			PasswordHashCost: 10,
			GetLoginToken:    true,
		},
		RateLimits: RateLimits{
			Enabled:      true,
			Login:        Rate{PerSecond: 0.5, Burst: 10},
			Registration: Rate{PerSecond: 1, Burst: 20},
			Messages:     Rate{PerSecond: 20, Burst: 100},
			RoomCreation: Rate{PerSecond: 0.05, Burst: 10},
			Typing:       Rate{PerSecond: 2, Burst: 20},
			ToDevice:     Rate{PerSecond: 20, Burst: 100},
			MediaUploads: Rate{PerSecond: 1, Burst: 20},
			Reports:      Rate{PerSecond: 0.1, Burst: 10},
		},
		Logging: Logging{Level: "info", Format: "text"},
		Limits: Limits{
			MaxRequestBytes: 1 << 20, MaxUploadBytes: 100 << 20,
			HeaderTimeout: 10 * time.Second, BodyTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
			MaxConnectionsPerIP: 500,
		},
		Rooms:         Rooms{DefaultVersion: matrixrules.DefaultVersion},
		ServerNotices: ServerNotices{Localpart: "notices", DisplayName: "Server Notices", RoomName: "Server Notices"},
		Presence:      Presence{Enabled: true},
		VoIP:          VoIP{TURNUserLifetimeSeconds: 86400, TURNAllowGuests: true},
		Federation: Federation{
			Enabled:           true,
			TrustedKeyServers: []string{"matrix.org"},
		},
		Media: mediaDefaults(),
	}
}

// Load reads path, applies defaults for what it leaves out, validates and
// loads the signing key. Unknown keys are errors naming the key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.path = path
	if err := cfg.LoadSigningKey(); err != nil {
		return nil, err
	}
	if cfg.AppServiceWarnings, err = cfg.LoadAppServices(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes YAML over the defaults and validates it.
func Parse(data []byte) (*Config, error) {
	cfg := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks every value, naming the key at fault.
func (c *Config) Validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	if c.ServerName == "" {
		bad("server_name", "must be set (e.g. example.org)")
	} else if strings.ContainsAny(c.ServerName, "/ @#!") || strings.Contains(c.ServerName, "://") {
		bad("server_name", "%q is not a valid server name: use a hostname with an optional :port, no scheme", c.ServerName)
	}
	if c.DataDir == "" {
		bad("data_dir", "must be set")
	}
	checkAddr := func(key string, l Listener, required bool) {
		if l.Address == "" {
			if required {
				bad(key+".address", "must be set")
			}
			return
		}
		if _, _, err := net.SplitHostPort(l.Address); err != nil {
			bad(key+".address", "%q is not host:port", l.Address)
		}
		if (l.TLSCert == "") != (l.TLSKey == "") {
			bad(key, "tls_cert and tls_key must be set together")
		}
	}
	checkAddr("listeners.client", c.Listeners.Client, true)
	checkAddr("listeners.federation", c.Listeners.Federation, false)
	checkAddr("listeners.metrics", c.Listeners.Metrics, false)
	for key, dsn := range c.databaseDSNs() {
		if dsn != "" && dsn != "sqlite" && !strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			bad("database."+key, "%q must be \"sqlite\", \"sqlite:/path/file.db\" or \"postgres://…\"", dsn)
		}
	}
	for i, u := range c.NATS.URLs {
		if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
			bad(fmt.Sprintf("nats.urls[%d]", i), "%q must start with nats:// or tls://", u)
		}
	}
	if c.NATS.Prefix == "" || strings.ContainsAny(c.NATS.Prefix, ". *>") {
		bad("nats.prefix", "%q must be non-empty without dots, spaces or wildcards", c.NATS.Prefix)
	}
	switch c.Registration.Mode {
	case "closed", "open":
	case "token": // tokens may also be created with the admin API
	case "shared_secret":
		if c.Registration.SharedSecret == "" {
			bad("registration.shared_secret", "mode \"shared_secret\" needs a secret")
		}
	default:
		bad("registration.mode", "%q must be one of closed, open, token, shared_secret", c.Registration.Mode)
	}
	if c.Registration.PasswordHashCost < 4 || c.Registration.PasswordHashCost > 14 {
		bad("registration.password_hash_cost", "%d must be between 4 and 14", c.Registration.PasswordHashCost)
	}
	for i, p := range c.TrustedProxies {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP or CIDR", p)
			}
		}
	}
	if c.Registration.MinPasswordLen < 0 {
		bad("registration.min_password_length", "must not be negative")
	}
	for name, r := range map[string]Rate{"login": c.RateLimits.Login, "registration": c.RateLimits.Registration, "messages": c.RateLimits.Messages,
		"room_creation": c.RateLimits.RoomCreation, "typing": c.RateLimits.Typing, "to_device": c.RateLimits.ToDevice,
		"media_uploads": c.RateLimits.MediaUploads, "reports": c.RateLimits.Reports} {
		if r.PerSecond < 0 || r.Burst < 0 || (c.RateLimits.Enabled && r.PerSecond > 0 && r.Burst == 0) {
			bad("rate_limits."+name, "per_second and burst must be positive")
		}
	}
	for i, sc := range c.Support.Contacts {
		key := fmt.Sprintf("support.contacts[%d]", i)
		if sc.Role != "m.role.admin" && sc.Role != "m.role.security" {
			bad(key+".role", "%q must be m.role.admin or m.role.security", sc.Role)
		}
		if sc.MatrixID == "" && sc.EmailAddress == "" {
			bad(key, "needs matrix_id or email_address")
		}
	}
	if c.Support.SupportPage != "" && !strings.HasPrefix(c.Support.SupportPage, "https://") && !strings.HasPrefix(c.Support.SupportPage, "http://") {
		bad("support.support_page", "%q must be an http(s) URL", c.Support.SupportPage)
	}
	if len(c.VoIP.TURNURIs) > 0 && c.VoIP.TURNSharedSecret == "" {
		bad("voip.turn_shared_secret", "is required with turn_uris")
	}
	for i, u := range c.VoIP.TURNURIs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			bad(fmt.Sprintf("voip.turn_uris[%d]", i), "%q must be a turn: or turns: URI", u)
		}
	}
	if c.VoIP.TURNUserLifetimeSeconds < 60 {
		bad("voip.turn_user_lifetime_seconds", "must be at least 60")
	}
	for key, list := range map[string][]string{"federation": c.Federation.AllowedPrivateNetworks, "push": c.Push.AllowedPrivateNetworks} {
		for i, n := range list {
			if net.ParseIP(n) == nil {
				if _, _, err := net.ParseCIDR(n); err != nil {
					bad(fmt.Sprintf("%s.allowed_private_networks[%d]", key, i), "%q is not an IP or CIDR", n)
				}
			}
		}
	}
	for i, ip := range c.RateLimits.ExemptIPs {
		if net.ParseIP(ip) == nil {
			if _, _, err := net.ParseCIDR(ip); err != nil {
				bad(fmt.Sprintf("rate_limits.exempt_ips[%d]", i), "%q is not an IP or CIDR", ip)
			}
		}
	}
	if c.ServerNotices.Enabled && (c.ServerNotices.Localpart == "" || strings.ContainsAny(c.ServerNotices.Localpart, ":@ ")) {
		bad("server_notices.localpart", "%q must be a plain localpart", c.ServerNotices.Localpart)
	}
	switch strings.ToLower(c.Logging.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("logging.level", "%q must be debug, info, warn or error", c.Logging.Level)
	}
	switch c.Logging.Format {
	case "text", "json":
	default:
		bad("logging.format", "%q must be text or json", c.Logging.Format)
	}
	if c.Limits.MaxRequestBytes < 65536 {
		bad("limits.max_request_bytes", "must be at least 65536")
	}
	if c.Limits.MemoryLimitMB < 0 || (c.Limits.MemoryLimitMB > 0 && c.Limits.MemoryLimitMB < 32) {
		bad("limits.memory_limit_mb", "must be 0 (no limit) or at least 32")
	}
	for key, d := range map[string]time.Duration{"header_timeout": c.Limits.HeaderTimeout, "body_timeout": c.Limits.BodyTimeout, "idle_timeout": c.Limits.IdleTimeout} {
		if d < time.Second {
			bad("limits."+key, "%s must be at least 1s", d)
		}
	}
	if c.Limits.MaxConnectionsPerIP < 0 {
		bad("limits.max_connections_per_ip", "must be 0 (no cap) or positive")
	}
	if c.Limits.MaxUploadBytes <= 0 {
		bad("limits.max_upload_bytes", "must be positive")
	}
	c.Media.validate(bad)
	if !matrixrules.IsSupported(c.Rooms.DefaultVersion) {
		bad("rooms.default_version", "%q is not a supported room version (%s)", c.Rooms.DefaultVersion, matrixrules.SupportedList())
	}
	known := map[string]bool{"clientapi": true, "userapi": true, "roomserver": true, "syncapi": true, "federationapi": true, "keyserver": true, "mediaapi": true, "appservice": true}
	for i, comp := range c.Components {
		if !known[comp] {
			bad(fmt.Sprintf("components[%d]", i), "unknown component %q", comp)
		}
	}
	for i, p := range c.AppServicePaths {
		if strings.TrimSpace(p) == "" {
			bad(fmt.Sprintf("app_services[%d]", i), "must be a path to a registration file")
		}
	}
	c.Partitioning.validate(c, bad)
	if len(c.Components) > 0 && len(c.NATS.URLs) == 0 {
		bad("nats.urls", "running only some components (%v) needs an external NATS cluster shared by all processes", c.Components)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid config:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func (c *Config) databaseDSNs() map[string]string {
	return map[string]string{
		"default": c.Database.Default, "userapi": c.Database.UserAPI, "roomserver": c.Database.RoomServer,
		"syncapi": c.Database.SyncAPI, "keyserver": c.Database.KeyServer, "mediaapi": c.Database.MediaAPI,
		"federationapi": c.Database.Federation, "appservice": c.Database.AppService,
	}
}

// DatabaseDSN is the DSN component uses: its own setting, else the default;
// "sqlite" means a file named after the component in data_dir.
func (c *Config) DatabaseDSN(component string) string {
	dsn := c.databaseDSNs()[component]
	if dsn == "" {
		dsn = c.Database.Default
	}
	if dsn == "" || dsn == "sqlite" {
		return filepath.Join(c.DataDir, component+".db")
	}
	return dsn
}

// Runs reports whether this process runs component.
func (c *Config) Runs(component string) bool {
	if len(c.Components) == 0 {
		return true
	}
	for _, comp := range c.Components {
		if comp == component {
			return true
		}
	}
	return false
}

// ResolvePath makes p relative to the data dir unless it is absolute.
func (c *Config) ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// LoadSigningKey reads the ed25519 key ("ed25519 <id> <base64 seed>", the
// format most homeservers use), creating one if the file does not exist.
func (c *Config) LoadSigningKey() error {
	path := c.ResolvePath(c.SigningKeyPath)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fmt.Errorf("signing_key_path: %w", err)
		}
		data = []byte(NewSigningKey())
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("signing_key_path: write new key: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("signing_key_path: %w", err)
	}
	key, id, err := ParseSigningKey(string(data))
	if err != nil {
		return fmt.Errorf("signing_key_path %s: %w", path, err)
	}
	c.SigningKey, c.KeyID = key, id
	return nil
}

// NewSigningKey returns a fresh key in the file format.
func NewSigningKey() string {
	_, priv, _ := ed25519.GenerateKey(nil)
	id := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)[:4])
	id = strings.NewReplacer("-", "a", "_", "b").Replace(id)
	return fmt.Sprintf("ed25519 a_%s %s\n", id, base64.RawStdEncoding.EncodeToString(priv.Seed()))
}

// ParseSigningKey parses "ed25519 <id> <base64 seed>".
func ParseSigningKey(text string) (ed25519.PrivateKey, string, error) {
	fields := strings.Fields(text)
	if len(fields) != 3 || fields[0] != "ed25519" {
		return nil, "", errors.New(`expected "ed25519 <key id> <base64 seed>"`)
	}
	seed, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(fields[2], "="))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, "", errors.New("key seed is not 32 bytes of base64")
	}
	return ed25519.NewKeyFromSeed(seed), "ed25519:" + fields[1], nil
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func postgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// replicated are the components run as several processes with an
// instance name: the roomserver partitioned by room, the federationapi's
// sender by destination, the others with one writer (internal/writer;
// the syncapi's carries the pushserver).
var replicated = map[string]bool{"roomserver": true, "syncapi": true, "keyserver": true, "appservice": true, "federationapi": true}

func (p Partitioning) validate(c *Config, bad func(key, format string, args ...any)) {
	if p.Partitions < 1 || p.Partitions > 4096 {
		bad("partitioning.partitions", "%d must be between 1 and 4096", p.Partitions)
	}
	if p.LeaseTTL < time.Second || p.LeaseTTL > time.Minute {
		bad("partitioning.lease_ttl", "%s must be between 1s and 60s", p.LeaseTTL)
	}
	if p.Instance == "" {
		return
	}
	if !instanceName.MatchString(p.Instance) {
		bad("partitioning.instance", "%q must be 1-64 letters, digits, '-' or '_'", p.Instance)
	}
	if len(c.Components) != 1 || !replicated[c.Components[0]] {
		// A process of several runs one component (docs/scaling.md); the
		// clientapi, userapi and mediaapi need no instance name.
		bad("partitioning.instance", "is for processes running only one of roomserver, syncapi, keyserver, appservice or federationapi (e.g. components: [roomserver]); run the other components in processes of their own")
	}
	if len(c.NATS.URLs) == 0 {
		bad("partitioning.instance", "several processes of a component need an external NATS (nats.urls) shared by all of them")
	}
	for comp := range replicated {
		if !c.Runs(comp) {
			continue
		}
		if comp == "syncapi" && !postgres(c.DatabaseDSN("pushserver")) {
			bad("partitioning.instance", "several syncapi processes need a PostgreSQL database for the pushserver (database.default)")
		}
		if !postgres(c.DatabaseDSN(comp)) {
			bad("partitioning.instance", "several %s processes need a PostgreSQL database for the %s", comp, comp)
		}
	}
}
