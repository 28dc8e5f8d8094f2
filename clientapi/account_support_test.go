package clientapi

import (
	"testing"
	"time"
)

// TestTURNCredentials checks the coturn shared-secret scheme against a
// value computed with openssl:
// echo -n "1700000000:@alice:example.org" | openssl dgst -sha1 -hmac s3cret -binary | base64
func TestTURNCredentials(t *testing.T) {
	user, pass := turnCredentials("s3cret", "@alice:example.org", time.Unix(1700000000, 0))
	if user != "1700000000:@alice:example.org" || pass != "oKcYiX5WLXOJY95WjqLUBOVFmFk=" {
		t.Fatalf("got %q / %q", user, pass)
	}
}
