package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/netguard"
)

// Media configures the content repository (component mediaapi). The
// largest upload is limits.max_upload_bytes.
type Media struct {
	// Storage is where files are kept: "file" (content-addressed files
	// under BasePath) or "s3" (an S3-compatible object store).
	Storage string `yaml:"storage"`
	// BasePath of the file store (and of temporary upload files for both
	// backends); relative paths are under data_dir. Default "media".
	BasePath string  `yaml:"base_path"`
	S3       MediaS3 `yaml:"s3"`
	// ThumbnailSizes are made at upload time for images; other sizes are
	// made on demand and kept.
	ThumbnailSizes []ThumbnailSize `yaml:"thumbnail_sizes"`
	// MaxImagePixels: images declaring more pixels (width × height) are
	// not decoded (decompression bombs); they are served but not
	// thumbnailed.
	MaxImagePixels int64 `yaml:"max_image_pixels"`
	// UnusedExpiry is how long an ID from /create waits for its upload.
	UnusedExpiry time.Duration `yaml:"unused_expiry"`
	// MaxPendingUploads per user (IDs created and not yet uploaded).
	MaxPendingUploads int `yaml:"max_pending_uploads"`
	// FreezeLegacyAfter (RFC 3339 or YYYY-MM-DD): media uploaded or cached
	// from then on is served only by the authenticated endpoints. Empty:
	// no freeze.
	FreezeLegacyAfter string `yaml:"freeze_legacy_after"`
	// ServeFederationMedia serves /_matrix/federation/v1/media/*. Off
	// mimics a server from before Matrix 1.11 (peers then fall back to
	// the legacy download).
	ServeFederationMedia bool `yaml:"serve_federation_media"`
	// RemoteTimeout bounds fetching one file from another server.
	RemoteTimeout time.Duration `yaml:"remote_timeout"`
	// RemoteCacheMaxAge drops cached remote media not downloaded for this
	// long (fetched again if asked for); 0 keeps it forever.
	RemoteCacheMaxAge time.Duration `yaml:"remote_cache_max_age"`
	URLPreview        URLPreview    `yaml:"url_preview"`
}

// MediaS3 is an S3-compatible bucket.
type MediaS3 struct {
	// Endpoint is host:port, or a URL (http:// turns TLS off).
	Endpoint  string `yaml:"endpoint"`
	Bucket    string `yaml:"bucket"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	Region    string `yaml:"region"`
	// PathStyle addresses the bucket in the path (most self-hosted
	// servers) instead of as a subdomain.
	PathStyle bool `yaml:"path_style"`
	// Prefix is put before every object key.
	Prefix string `yaml:"prefix"`
}

// ThumbnailSize is one pre-generated thumbnail.
type ThumbnailSize struct {
	Width  int    `yaml:"width"`
	Height int    `yaml:"height"`
	Method string `yaml:"method"`
}

// URLPreview configures /preview_url.
type URLPreview struct {
	Enabled bool `yaml:"enabled"`
	// IPRangeBlacklist: CIDRs never fetched from; checked on the resolved
	// address of every connection, redirects included.
	IPRangeBlacklist []string `yaml:"ip_range_blacklist"`
	// IPRangeWhitelist: CIDRs allowed even when blacklisted.
	IPRangeWhitelist []string      `yaml:"ip_range_whitelist"`
	MaxPageBytes     int64         `yaml:"max_page_bytes"`
	MaxRedirects     int           `yaml:"max_redirects"`
	Timeout          time.Duration `yaml:"timeout"`
}

// DefaultPreviewBlacklist is every range that is not the public internet.
var DefaultPreviewBlacklist = netguard.NonPublic

func mediaDefaults() Media {
	return Media{
		Storage:  "file",
		BasePath: "media",
		ThumbnailSizes: []ThumbnailSize{
			{32, 32, "crop"}, {96, 96, "crop"}, {320, 240, "scale"}, {640, 480, "scale"}, {800, 600, "scale"},
		},
		MaxImagePixels:       32_000_000,
		UnusedExpiry:         24 * time.Hour,
		MaxPendingUploads:    10,
		ServeFederationMedia: true,
		RemoteTimeout:        2 * time.Minute,
		URLPreview: URLPreview{
			IPRangeBlacklist: DefaultPreviewBlacklist,
			MaxPageBytes:     10 << 20,
			MaxRedirects:     5,
			Timeout:          10 * time.Second,
		},
	}
}

// FreezeTime is media.freeze_legacy_after parsed (zero: no freeze).
func (m Media) FreezeTime() time.Time {
	t, _ := parseFreeze(m.FreezeLegacyAfter)
	return t
}

func parseFreeze(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func (m Media) validate(bad func(key, format string, args ...any)) {
	switch m.Storage {
	case "file":
	case "s3":
		if m.S3.Endpoint == "" {
			bad("media.s3.endpoint", "must be set for storage \"s3\"")
		} else if strings.Contains(m.S3.Endpoint, "://") {
			if u, err := url.Parse(m.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("media.s3.endpoint", "%q must be host:port or an http(s) URL", m.S3.Endpoint)
			}
		}
		if m.S3.Bucket == "" {
			bad("media.s3.bucket", "must be set for storage \"s3\"")
		}
	default:
		bad("media.storage", "%q must be \"file\" or \"s3\"", m.Storage)
	}
	if m.BasePath == "" {
		bad("media.base_path", "must be set")
	}
	for i, s := range m.ThumbnailSizes {
		key := fmt.Sprintf("media.thumbnail_sizes[%d]", i)
		if s.Width < 1 || s.Height < 1 || s.Width > 4096 || s.Height > 4096 {
			bad(key, "width and height must be between 1 and 4096")
		}
		if s.Method != "crop" && s.Method != "scale" {
			bad(key+".method", "%q must be crop or scale", s.Method)
		}
	}
	if m.MaxImagePixels < 1 {
		bad("media.max_image_pixels", "must be positive")
	}
	if m.UnusedExpiry < time.Minute {
		bad("media.unused_expiry", "must be at least 1m")
	}
	if m.MaxPendingUploads < 1 {
		bad("media.max_pending_uploads", "must be at least 1")
	}
	if _, err := parseFreeze(m.FreezeLegacyAfter); err != nil {
		bad("media.freeze_legacy_after", "%q must be a date (2024-09-01) or an RFC 3339 time", m.FreezeLegacyAfter)
	}
	if m.RemoteCacheMaxAge != 0 && m.RemoteCacheMaxAge < time.Hour {
		bad("media.remote_cache_max_age", "must be 0 (keep) or at least 1h")
	}
	if m.RemoteTimeout < time.Second {
		bad("media.remote_timeout", "must be at least 1s")
	}
	p := m.URLPreview
	for key, list := range map[string][]string{"ip_range_blacklist": p.IPRangeBlacklist, "ip_range_whitelist": p.IPRangeWhitelist} {
		for i, c := range list {
			if _, _, err := net.ParseCIDR(c); err != nil {
				bad(fmt.Sprintf("media.url_preview.%s[%d]", key, i), "%q is not a CIDR", c)
			}
		}
	}
	if p.MaxPageBytes < 1024 {
		bad("media.url_preview.max_page_bytes", "must be at least 1024")
	}
	if p.MaxRedirects < 0 || p.MaxRedirects > 20 {
		bad("media.url_preview.max_redirects", "must be between 0 and 20")
	}
	if p.Timeout < time.Second || p.Timeout > 5*time.Minute {
		bad("media.url_preview.timeout", "must be between 1s and 5m")
	}
}
