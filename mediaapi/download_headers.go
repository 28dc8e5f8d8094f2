package mediaapi

import (
	"mime"
	"net/http"
	"strings"
)

// contentSecurityPolicy is the spec's recommended policy for served media:
// nothing in a file may run or load anything.
const contentSecurityPolicy = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';"

// inlineTypes may be shown inline by browsers without risk of script
// running (the spec's list); everything else is an attachment.
var inlineTypes = map[string]bool{
	"text/css": true, "text/plain": true, "text/csv": true, "application/json": true, "application/ld+json": true,
	"image/jpeg": true, "image/gif": true, "image/png": true, "image/apng": true, "image/webp": true, "image/avif": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true, "video/quicktime": true,
	"audio/mp4": true, "audio/webm": true, "audio/aac": true, "audio/mpeg": true, "audio/ogg": true,
	"audio/wave": true, "audio/wav": true, "audio/x-wav": true, "audio/x-pn-wav": true, "audio/flac": true, "audio/x-flac": true,
}

// servedContentType is the stored type, or application/octet-stream when
// unknown or unparsable.
func servedContentType(stored string) string {
	if _, _, err := mime.ParseMediaType(stored); err != nil || stored == "" {
		return "application/octet-stream"
	}
	return stored
}

// disposition is the Content-Disposition for a file: inline only for safe
// types, with the name encoded per RFC 6266 (filename*=UTF-8” for
// non-ASCII names).
func disposition(contentType, fileName string) string {
	kind := "attachment"
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && inlineTypes[strings.ToLower(mt)] {
		kind = "inline"
	}
	if fileName == "" {
		return kind
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": fileName}); v != "" {
		return v
	}
	return kind
}

// setMediaHeaders sets what every served file carries.
func setMediaHeaders(h http.Header, contentType, fileName string) {
	ct := servedContentType(contentType)
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition(ct, fileName))
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=86400")
}
