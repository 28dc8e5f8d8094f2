package userapi

import (
	"fmt"

	"github.com/axon-hs/axon/userapi/api"
)

// validateLocalpart applies the spec's user ID grammar to a new account:
// lowercase a-z, digits and ._=-/+, and a full ID of at most 255 bytes.
// All-digit names are kept for guests.
func (u *UserAPI) validateLocalpart(localpart string, guest bool) error {
	if localpart == "" {
		return fmt.Errorf("%w: username must not be empty", api.ErrInvalidUsername)
	}
	if n := len(u.userID(localpart)); n > 255 {
		return fmt.Errorf("%w: user ID would be %d bytes, the limit is 255", api.ErrInvalidUsername, n)
	}
	digits := true
	for _, c := range localpart {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c == '.', c == '_', c == '=', c == '-', c == '/', c == '+':
			digits = false
		default:
			return fmt.Errorf("%w: usernames may only contain a-z, 0-9 and ._=-/+ (found %q)", api.ErrInvalidUsername, c)
		}
	}
	if digits && !guest {
		return fmt.Errorf("%w: numeric usernames are reserved for guests", api.ErrInvalidUsername)
	}
	return nil
}
