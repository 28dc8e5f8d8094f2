package config

import (
	"strings"
	"testing"
)

func TestMediaErrorsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"media:\n  storage: ftp\n":                                           "media.storage",
		"media:\n  storage: s3\n":                                            "media.s3.endpoint",
		"media:\n  storage: s3\n  s3:\n    endpoint: \"ftp://x\"\n":          "media.s3.endpoint",
		"media:\n  thumbnail_sizes: [{width: 0, height: 5, method: crop}]\n": "media.thumbnail_sizes[0]",
		"media:\n  thumbnail_sizes: [{width: 5, height: 5, method: zoom}]\n": "media.thumbnail_sizes[0].method",
		"media:\n  max_image_pixels: 0\n":                                    "media.max_image_pixels",
		"media:\n  freeze_legacy_after: soon\n":                              "media.freeze_legacy_after",
		"media:\n  url_preview:\n    ip_range_whitelist: [\"127.0.0.1\"]\n":  "media.url_preview.ip_range_whitelist[0]",
		"media:\n  url_preview:\n    timeout: 0s\n":                          "media.url_preview.timeout",
		"media:\n  max_pending_uploads: 0\n":                                 "media.max_pending_uploads",
		"media:\n  remote_cache_max_age: 5m\n":                               "media.remote_cache_max_age",
		"rate_limits:\n  media_uploads:\n    per_second: 1\n    burst: 0\n":  "rate_limits.media_uploads",
	}
	for input, key := range cases {
		_, err := Parse([]byte(input))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v does not name %q", input, err, key)
		}
	}
}

func TestMediaFreezeTime(t *testing.T) {
	for in, want := range map[string]string{"": "0001-01-01T00:00:00Z", "2024-09-01": "2024-09-01T00:00:00Z", "2024-09-01T12:00:00+02:00": "2024-09-01T10:00:00Z"} {
		cfg, err := Parse([]byte("media:\n  freeze_legacy_after: \"" + in + "\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Media.FreezeTime().UTC().Format("2006-01-02T15:04:05Z07:00"); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}
