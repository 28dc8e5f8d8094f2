// Package mediaapi is the content repository: uploads, downloads,
// thumbnails, URL previews and media over federation.
//
// Owns: the mediaapi database (storage/: media metadata, thumbnails, URL
// preview cache) and the files (blob/: content-addressed by SHA-256 on
// disk under media.base_path, or in an S3-compatible bucket). Uploads are
// streamed to a temporary file while hashed, then committed (rename, or
// object put), so no upload is ever held in memory and identical files
// are stored once. Metadata rows (uploader, type, size, hash, created,
// last access, quarantined) are kept for the admin API.
//
// Streams: none in or out.
//
// api/ (MediaAdminAPI, admin_media.go) is what the admin API asks: a
// user's media, quarantine (a quarantined row is answered 404 everywhere;
// uncached remote media gets a quarantined placeholder row so it is never
// fetched), protection, deletion and purging the remote cache. Served over
// NATS in a polylith.
//
// Routes (routes.go): POST /_matrix/media/v3/upload, POST
// /_matrix/media/v1/create + PUT /_matrix/media/v3/upload/{server}/{id},
// /_matrix/client/v1/media/{config,download,thumbnail,preview_url}, the
// legacy /_matrix/media/v3/{download,thumbnail,config,preview_url}
// (downloads frozen per media.freeze_legacy_after), and
// /_matrix/federation/v1/media/{download,thumbnail}/{id} (X-Matrix
// signatures checked by federationapi's VerifyRequest).
//
// Remote media (serverName not ours) is fetched through federationapi's
// transport (Deps.Remote): the authenticated federation endpoint, else the
// legacy download for older servers; it is cached, and concurrent
// requests for one file share a single fetch (singleflight). With
// media.remote_cache_max_age, cached remote files unused that long are
// dropped hourly (with files no other row uses).
//
// In a polylith, /_matrix/media/*, /_matrix/client/v1/media/* and
// /_matrix/federation/v1/media/* must be routed to the process running
// mediaapi; tokens are checked through userapi and signatures through
// federationapi over RPC.
//
// Thumbnails (thumbnail/) are made for the configured sizes at upload and
// for other sizes on demand, then kept; image headers are checked against
// media.max_image_pixels before decoding. URL previews (preview/) fetch
// through a client whose dialer refuses non-public addresses.
package mediaapi
