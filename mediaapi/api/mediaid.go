package api

import "github.com/matrix-org/gomatrixserverlib/spec"

// ValidMediaID: 1-255 of A-Z a-z 0-9 _ - (the spec's rule against path
// tricks).
func ValidMediaID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidServerName is a server name media can come from.
func ValidServerName(s string) bool {
	_, _, ok := spec.ParseAndValidateServerName(spec.ServerName(s))
	return ok && len(s) <= 255
}
