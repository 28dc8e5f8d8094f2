package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// AppService is one application service registration file (the format
// every bridge generates), loaded from a path in app_services.
type AppService struct {
	ID string `yaml:"id"`
	// URL receives transactions and queries; nil ("url: null") means the
	// appservice wants no traffic pushed to it.
	URL             *string              `yaml:"url"`
	ASToken         string               `yaml:"as_token"`
	HSToken         string               `yaml:"hs_token"`
	SenderLocalpart string               `yaml:"sender_localpart"`
	Namespaces      AppServiceNamespaces `yaml:"namespaces"`
	// RateLimited: masqueraded users are rate-limited only when true
	// (the sender never is). Absent means true, as the spec's default.
	RateLimited *bool    `yaml:"rate_limited"`
	Protocols   []string `yaml:"protocols"`

	// Ephemeral data (typing, receipts, presence): the stable key and the
	// MSC2409 one bridges still write.
	ReceiveEphemeral        bool `yaml:"receive_ephemeral"`
	ReceiveEphemeralMSC2409 bool `yaml:"de.sorunome.msc2409.push_ephemeral"`
	// To-device messages for the appservice's users (MSC4203, and the
	// older push_to_device name).
	PushToDevice        bool `yaml:"push_to_device"`
	PushToDeviceMSC4203 bool `yaml:"org.matrix.msc4203.receive_to_device"`
	// MSC3202: device_id masquerading, device lists and one-time key
	// counts in transactions.
	MSC3202 bool `yaml:"org.matrix.msc3202"`
	// MSC4190: the appservice creates and deletes its users' devices
	// without UIA (PUT/DELETE /devices/{deviceId}).
	MSC4190 bool `yaml:"io.element.msc4190"`

	// File is the path it was loaded from (for messages).
	File string `yaml:"-"`
}

// AppServiceNamespaces are the user IDs, aliases and room IDs an
// appservice is interested in (and, where exclusive, owns).
type AppServiceNamespaces struct {
	Users   []Namespace `yaml:"users"`
	Aliases []Namespace `yaml:"aliases"`
	Rooms   []Namespace `yaml:"rooms"`
}

// Namespace is one regex of a namespace list.
type Namespace struct {
	Regex     string `yaml:"regex"`
	Exclusive bool   `yaml:"exclusive"`
	re        *regexp.Regexp
}

// Matches reports whether s is in the namespace. Regexes are anchored at
// the start (as homeservers bridges are written against do) but not at
// the end, so "@_irc_.*" and "^@_irc_.*:example\.org$" both work.
func (n *Namespace) Matches(s string) bool {
	return n.re != nil && n.re.MatchString(s)
}

// match finds s in a namespace list: whether it matched and whether any
// matching namespace is exclusive.
func match(list []Namespace, s string) (matched, exclusive bool) {
	for i := range list {
		if list[i].Matches(s) {
			matched = true
			exclusive = exclusive || list[i].Exclusive
		}
	}
	return matched, exclusive
}

// SenderUserID is the appservice's own user (sender_localpart).
func (a *AppService) SenderUserID(serverName string) string {
	return "@" + a.SenderLocalpart + ":" + serverName
}

// HasURL says whether traffic is pushed to the appservice.
func (a *AppService) HasURL() bool { return a.URL != nil && *a.URL != "" }

// IsRateLimited says whether users masqueraded by the appservice are
// rate-limited.
func (a *AppService) IsRateLimited() bool { return a.RateLimited == nil || *a.RateLimited }

// WantsEphemeral says whether typing, receipts and presence are pushed.
func (a *AppService) WantsEphemeral() bool { return a.ReceiveEphemeral || a.ReceiveEphemeralMSC2409 }

// WantsToDevice says whether to-device messages are pushed.
func (a *AppService) WantsToDevice() bool { return a.PushToDevice || a.PushToDeviceMSC4203 }

// OwnsUser says whether userID is the appservice's sender or in its user
// namespaces (it may register and masquerade as it).
func (a *AppService) OwnsUser(userID, serverName string) bool {
	if userID == a.SenderUserID(serverName) {
		return true
	}
	m, _ := match(a.Namespaces.Users, userID)
	return m
}

// UserExclusive says whether userID is in one of its exclusive user namespaces.
func (a *AppService) UserExclusive(userID string) bool {
	_, ex := match(a.Namespaces.Users, userID)
	return ex
}

// InUserNamespace says whether userID is in its user namespaces.
func (a *AppService) InUserNamespace(userID string) bool {
	m, _ := match(a.Namespaces.Users, userID)
	return m
}

// InAliasNamespace says whether alias is in its alias namespaces.
func (a *AppService) InAliasNamespace(alias string) bool {
	m, _ := match(a.Namespaces.Aliases, alias)
	return m
}

// AliasExclusive says whether alias is in one of its exclusive alias namespaces.
func (a *AppService) AliasExclusive(alias string) bool {
	_, ex := match(a.Namespaces.Aliases, alias)
	return ex
}

// InRoomNamespace says whether roomID is in its room namespaces.
func (a *AppService) InRoomNamespace(roomID string) bool {
	m, _ := match(a.Namespaces.Rooms, roomID)
	return m
}

// AppServiceByToken finds the registration whose as_token is token.
func (c *Config) AppServiceByToken(token string) *AppService {
	return c.appServiceTokens[token]
}

// AppServiceByID finds a registration by id.
func (c *Config) AppServiceByID(id string) *AppService {
	for _, a := range c.AppServices {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// ToDeviceForAppservice says whether to-device messages for userID (a
// local user) must reach an appservice (MSC4203), so the server that
// stores them also publishes them for the appservice component.
func (c *Config) ToDeviceForAppservice(userID string) bool {
	for _, a := range c.AppServices {
		if a.HasURL() && a.WantsToDevice() && a.OwnsUser(userID, c.ServerName) {
			return true
		}
	}
	return false
}

// AppServiceMayCreateUser says whether a missing local userID is worth
// asking the appservices about (one with a URL has it in its namespaces).
func (c *Config) AppServiceMayCreateUser(userID string) bool {
	return strings.HasSuffix(userID, ":"+c.ServerName) && c.anyPushed(func(a *AppService) bool { return a.InUserNamespace(userID) })
}

// AppServiceMayCreateAlias is AppServiceMayCreateUser for room aliases.
func (c *Config) AppServiceMayCreateAlias(alias string) bool {
	return strings.HasSuffix(alias, ":"+c.ServerName) && c.anyPushed(func(a *AppService) bool { return a.InAliasNamespace(alias) })
}

func (c *Config) anyPushed(in func(*AppService) bool) bool {
	for _, a := range c.AppServices {
		if a.HasURL() && in(a) {
			return true
		}
	}
	return false
}

// ExclusiveUserOwner is the appservice that holds userID in an exclusive
// namespace, or nil.
func (c *Config) ExclusiveUserOwner(userID string) *AppService {
	for _, a := range c.AppServices {
		if a.UserExclusive(userID) {
			return a
		}
	}
	return nil
}

// ExclusiveAliasOwner is the appservice that holds alias in an exclusive
// namespace, or nil.
func (c *Config) ExclusiveAliasOwner(alias string) *AppService {
	for _, a := range c.AppServices {
		if a.AliasExclusive(alias) {
			return a
		}
	}
	return nil
}

// knownRegistrationKeys are the keys read from a registration file.
// Others are reported as warnings, not errors: bridges add keys for
// proposals this server does not know, and refusing to start would
// break an upgrade of the bridge.
var knownRegistrationKeys = map[string]bool{
	"id": true, "url": true, "as_token": true, "hs_token": true, "sender_localpart": true,
	"namespaces": true, "rate_limited": true, "protocols": true,
	"receive_ephemeral": true, "de.sorunome.msc2409.push_ephemeral": true,
	"push_to_device": true, "org.matrix.msc4203.receive_to_device": true,
	"org.matrix.msc3202": true, "io.element.msc4190": true,
}

// LoadAppServices reads and validates every registration in
// app_services. Errors name the file and the key. Unknown keys come back
// as warnings.
func (c *Config) LoadAppServices() (warnings []string, err error) {
	c.AppServices, c.appServiceTokens = nil, nil
	var errs []string
	for i, p := range c.AppServicePaths {
		path := c.ResolvePath(p)
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			errs = append(errs, fmt.Sprintf("app_services[%d]: %v", i, rerr))
			continue
		}
		reg, w, perr := ParseAppService(data)
		for _, m := range w {
			warnings = append(warnings, path+": "+m)
		}
		if perr != nil {
			errs = append(errs, fmt.Sprintf("app_services[%d] %s: %v", i, path, perr))
			continue
		}
		reg.File = path
		c.AppServices = append(c.AppServices, reg)
	}
	if len(errs) > 0 {
		c.AppServices = nil
		return warnings, fmt.Errorf("invalid application service registration:\n  %s", strings.Join(errs, "\n  "))
	}
	return warnings, c.IndexAppServices()
}

// IndexAppServices checks the registrations in AppServices against each
// other and indexes their as_tokens (LoadAppServices calls it; tests
// that build registrations in memory call it themselves).
func (c *Config) IndexAppServices() error {
	if errs := c.crossCheckAppServices(); len(errs) > 0 {
		c.AppServices, c.appServiceTokens = nil, nil
		return fmt.Errorf("invalid application service registration:\n  %s", strings.Join(errs, "\n  "))
	}
	c.appServiceTokens = make(map[string]*AppService, len(c.AppServices))
	for _, a := range c.AppServices {
		c.appServiceTokens[a.ASToken] = a
	}
	return nil
}

// crossCheckAppServices finds what no single file can show: IDs and
// tokens used twice, and one appservice's user inside another's
// exclusive namespace.
func (c *Config) crossCheckAppServices() []string {
	var errs []string
	ids, asTokens, hsTokens := map[string]string{}, map[string]string{}, map[string]string{}
	seen := func(m map[string]string, key, value, file string) {
		if prev, ok := m[value]; ok {
			errs = append(errs, fmt.Sprintf("%s: %s is the same as in %s; each appservice needs its own", file, key, prev))
			return
		}
		m[value] = file
	}
	for _, a := range c.AppServices {
		seen(ids, "id", a.ID, a.File)
		seen(asTokens, "as_token", a.ASToken, a.File)
		seen(hsTokens, "hs_token", a.HSToken, a.File)
		if other := asTokens[a.HSToken]; other != "" {
			errs = append(errs, fmt.Sprintf("%s: hs_token equals an as_token (of %s); the two must differ", a.File, other))
		}
	}
	for _, a := range c.AppServices {
		sender := a.SenderUserID(c.ServerName)
		for _, b := range c.AppServices {
			if a != b && b.UserExclusive(sender) {
				errs = append(errs, fmt.Sprintf("%s: sender_localpart %s is in an exclusive user namespace of %s (%s)", a.File, sender, b.ID, b.File))
			}
		}
	}
	sort.Strings(errs)
	return errs
}

// ParseAppService decodes and validates one registration file.
func ParseAppService(data []byte) (*AppService, []string, error) {
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("not a YAML registration: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var warnings []string
	for k := range raw {
		if !knownRegistrationKeys[k] {
			warnings = append(warnings, fmt.Sprintf("unknown key %q ignored", k))
		}
	}
	sort.Strings(warnings)
	var reg AppService
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&reg); err != nil {
		return nil, warnings, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if _, ok := raw["url"]; !ok {
		return nil, warnings, errors.New("url: must be set (null if nothing is to be pushed to the appservice)")
	}
	if _, ok := raw["namespaces"]; !ok {
		return nil, warnings, errors.New("namespaces: must be set (users, aliases, rooms; each may be empty)")
	}
	if err := reg.validate(); err != nil {
		return nil, warnings, err
	}
	return &reg, warnings, nil
}

func (a *AppService) validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, key+": "+fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(a.ID) == "" {
		bad("id", "must be set")
	} else if strings.ContainsAny(a.ID, "/?#") || len(a.ID) > 255 {
		bad("id", "%q must be at most 255 bytes without / ? #: it appears in URLs", a.ID)
	}
	if a.URL != nil && *a.URL != "" && !strings.HasPrefix(*a.URL, "http://") && !strings.HasPrefix(*a.URL, "https://") {
		bad("url", "%q must start with http:// or https://", *a.URL)
	}
	if a.ASToken == "" {
		bad("as_token", "must be set")
	}
	if a.HSToken == "" {
		bad("hs_token", "must be set")
	}
	if a.ASToken != "" && a.ASToken == a.HSToken {
		bad("hs_token", "must differ from as_token")
	}
	if !validSenderLocalpart(a.SenderLocalpart) {
		bad("sender_localpart", "%q must be a non-empty user ID localpart (printable ASCII without spaces or ':')", a.SenderLocalpart)
	}
	compile := func(key string, list []Namespace) {
		for i := range list {
			n := &list[i]
			k := fmt.Sprintf("namespaces.%s[%d].regex", key, i)
			if n.Regex == "" {
				bad(k, "must be set")
				continue
			}
			re, err := regexp.Compile("^(?:" + n.Regex + ")")
			if err != nil {
				bad(k, "%q is not a valid regular expression: %v", n.Regex, err)
				continue
			}
			n.re = re
		}
	}
	compile("users", a.Namespaces.Users)
	compile("aliases", a.Namespaces.Aliases)
	compile("rooms", a.Namespaces.Rooms)
	for i, p := range a.Protocols {
		if p == "" || strings.ContainsAny(p, "/?#") {
			bad(fmt.Sprintf("protocols[%d]", i), "%q must be non-empty without / ? #", p)
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// validSenderLocalpart accepts the historical user ID grammar (printable
// ASCII without ':'), not only what registration allows today: bridges
// generate random mixed-case sender localparts.
func validSenderLocalpart(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e || c == ':' {
			return false
		}
	}
	return true
}
