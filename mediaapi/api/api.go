// Package api is what other components ask of mediaapi: the media
// administration the admin API offers (listing and deleting a user's
// media, quarantine, protection, deletion by age, purging the remote
// cache). Served over NATS in a polylith.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface MediaAdminAPI

import "context"

// MediaAdminAPI is the media administration mediaapi serves.
type MediaAdminAPI interface {
	// UserMedia lists the media a local user uploaded (one page).
	// ErrInvalidOrder when OrderBy is not a listed field.
	UserMedia(ctx context.Context, q UserMediaQuery) (*UserMediaPage, error)
	// DeleteUserMedia deletes the page of the user's media q selects and
	// returns the deleted media IDs.
	DeleteUserMedia(ctx context.Context, q UserMediaQuery) ([]string, error)
	// MediaInfo reads one file's metadata; ErrNotFound.
	MediaInfo(ctx context.Context, origin, mediaID string) (*Media, error)
	// Quarantine stops media from being served (locally and over
	// federation), recording by; protected media is left alone. Media of
	// other servers is refused even when it is not cached yet. Returns
	// how many were newly quarantined.
	Quarantine(ctx context.Context, media []MXC, by string) (int, error)
	// QuarantineUserMedia quarantines every file a local user uploaded.
	QuarantineUserMedia(ctx context.Context, userID, by string) (int, error)
	// Unquarantine serves the media again; ErrNotFound.
	Unquarantine(ctx context.Context, origin, mediaID string) error
	// SetProtected protects local media from quarantine and age-based
	// deletion (or lifts it); ErrNotFound.
	SetProtected(ctx context.Context, mediaID string, protected bool) error
	// DeleteMedia deletes one file (local, or cached remote), its
	// thumbnails and the stored files no other media uses; ErrNotFound.
	DeleteMedia(ctx context.Context, origin, mediaID string) error
	// DeleteLocalMedia deletes local media last accessed before BeforeTS
	// and larger than SizeGT, except protected media and Keep; it
	// returns the deleted media IDs.
	DeleteLocalMedia(ctx context.Context, q DeleteLocalQuery) ([]string, error)
	// PurgeRemoteCache deletes cached remote media last accessed before
	// beforeTS (files and thumbnails) and returns how many.
	PurgeRemoteCache(ctx context.Context, beforeTS int64) (int, error)
}

// MXC names one piece of media (mxc://Origin/MediaID).
type MXC struct {
	Origin  string `json:"origin"`
	MediaID string `json:"media_id"`
}

// UserMediaQuery selects a page of a user's media.
type UserMediaQuery struct {
	UserID string `json:"user_id"`
	From   int    `json:"from"`
	Limit  int    `json:"limit"`
	// OrderBy is an admin API field name: media_id, upload_name,
	// created_ts (default), last_access_ts, media_length, media_type,
	// quarantined_by, safe_from_quarantine.
	OrderBy string `json:"order_by,omitempty"`
	Desc    bool   `json:"desc,omitempty"`
}

// UserMediaPage is one page of a user's media and how many there are.
type UserMediaPage struct {
	Media []Media `json:"media"`
	Total int     `json:"total"`
}

// Media is one file's metadata. Times are Unix milliseconds.
type Media struct {
	Origin        string `json:"origin"`
	MediaID       string `json:"media_id"`
	Uploader      string `json:"uploader,omitempty"`
	ContentType   string `json:"content_type"`
	FileName      string `json:"file_name,omitempty"`
	Size          int64  `json:"size"`
	SHA256        string `json:"sha256,omitempty"`
	CreatedTS     int64  `json:"created_ts"`
	LastAccessTS  int64  `json:"last_access_ts"`
	QuarantinedBy string `json:"quarantined_by,omitempty"`
	Quarantined   bool   `json:"quarantined,omitempty"`
	Protected     bool   `json:"protected,omitempty"`
}

// DeleteLocalQuery selects local media to delete by age and size.
type DeleteLocalQuery struct {
	BeforeTS int64 `json:"before_ts"`
	SizeGT   int64 `json:"size_gt"`
	// Keep lists media not to delete (profile pictures).
	Keep []MXC `json:"keep,omitempty"`
}
