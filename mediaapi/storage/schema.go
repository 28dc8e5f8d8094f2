package storage

import "github.com/axon-hs/axon/internal/storage"

// Component names the database (database.mediaapi).
const Component = "mediaapi"

// Migrations is the mediaapi schema.
//
// mediaapi_media has one row per mxc:// URI we serve: our own uploads
// (uploader set) and cached remote media (uploader ""). A row whose
// sha256 is "" is a pending asynchronous upload (/create) that expires at
// expires_ts. Files are content-addressed (sha256), so rows may share one.
var Migrations = []storage.Migration{{
	Version: 1,
	Name:    "media metadata, thumbnails, URL previews",
	SQL: `
CREATE TABLE mediaapi_media (
	origin TEXT NOT NULL,
	media_id TEXT NOT NULL,
	uploader TEXT NOT NULL DEFAULT '',
	content_type TEXT NOT NULL DEFAULT '',
	file_name TEXT NOT NULL DEFAULT '',
	size BIGINT NOT NULL DEFAULT 0,
	sha256 TEXT NOT NULL DEFAULT '',
	created_ts BIGINT NOT NULL,
	expires_ts BIGINT NOT NULL DEFAULT 0,
	last_access_ts BIGINT NOT NULL,
	quarantined BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (origin, media_id)
);
CREATE INDEX mediaapi_media_uploader ON mediaapi_media (uploader, sha256, expires_ts);
CREATE INDEX mediaapi_media_sha256 ON mediaapi_media (sha256);
CREATE TABLE mediaapi_thumbnails (
	origin TEXT NOT NULL,
	media_id TEXT NOT NULL,
	width INTEGER NOT NULL,
	height INTEGER NOT NULL,
	method TEXT NOT NULL,
	animated BOOLEAN NOT NULL,
	content_type TEXT NOT NULL,
	size BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	PRIMARY KEY (origin, media_id, width, height, method, animated)
);
CREATE TABLE mediaapi_url_previews (
	url TEXT NOT NULL,
	hour BIGINT NOT NULL,
	og_json TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	PRIMARY KEY (url, hour)
);
`,
}, {
	Version: 2,
	Name:    "admin: who quarantined, protection from quarantine",
	SQL: `
ALTER TABLE mediaapi_media ADD COLUMN quarantined_by TEXT NOT NULL DEFAULT '';
ALTER TABLE mediaapi_media ADD COLUMN safe_from_quarantine BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX mediaapi_media_uploader_created ON mediaapi_media (uploader, created_ts);
CREATE INDEX mediaapi_media_origin_access ON mediaapi_media (origin, last_access_ts);
`,
}, {
	Version: 3,
	Name:    "blob pins and deletion marks (several processes on one store)",
	SQL: `
CREATE TABLE mediaapi_blobs (
	sha256 TEXT PRIMARY KEY,
	deleting_ts BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE mediaapi_blob_pins (
	sha256 TEXT NOT NULL,
	token TEXT NOT NULL,
	created_ts BIGINT NOT NULL,
	PRIMARY KEY (sha256, token)
);
`,
}}
