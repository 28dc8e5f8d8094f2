// Package preview fetches web pages for URL previews safely and reads
// their OpenGraph and HTML metadata.
//
// Safety (SSRF): the server fetches URLs users give it, so every
// connection's RESOLVED address is checked against a blacklist (by default
// every non-public range: loopback, private, link-local, CGNAT, multicast,
// ULA, ...) in the dialer itself (internal/netguard). That covers
// redirects, DNS names that resolve to internal addresses and DNS
// rebinding, which checking the URL alone would not.
package preview
