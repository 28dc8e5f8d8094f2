package storage

import "errors"

// ErrNotFound is what storage methods return when the row asked for does
// not exist, so callers test one error whatever the component.
var ErrNotFound = errors.New("not found")
