package config

import (
	"strings"
)

// Example returns the commented config `axon generate-config` writes.
// Every key is listed with its default so operators see what they can set.
func Example(serverName string) string {
	if serverName == "" {
		serverName = "localhost:8008"
	}
	return strings.ReplaceAll(exampleTemplate, "{{SERVER_NAME}}", serverName)
}

const exampleTemplate = `# Axon homeserver configuration.
# Relative paths are resolved against data_dir. Unknown keys are errors.

# The name in your users' IDs (@alice:{{SERVER_NAME}}) and room IDs.
# It cannot be changed once users exist.
server_name: "{{SERVER_NAME}}"

# Where clients reach the server, advertised at /.well-known/matrix/client.
# Leave empty to not serve that file.
public_base_url: ""

# host:port other servers should use for federation, advertised at
# /.well-known/matrix/server. Leave empty to not serve that file.
well_known_server: ""

# Databases, media, the embedded NATS store and the signing key live here.
data_dir: "./data"

# Reverse proxies (IPs or CIDRs) trusted to report the client's address in
# X-Forwarded-For. Rate limits and logs then use the real client IP.
trusted_proxies: []

# The server's ed25519 signing key. Created on first start if missing.
# Keep it safe: other servers remember it.
signing_key_path: "signing.key"

listeners:
  # The Client-Server API (what Element and other apps talk to).
  client:
    address: "127.0.0.1:8008"
    # Serve HTTPS directly (optional; most set-ups put a reverse proxy in front).
    tls_cert: ""
    tls_key: ""
  # The Server-Server (federation) API. Empty address: served on the
  # client listener only. With an address it is served here and also on
  # the client listener's /_matrix/federation and /_matrix/key paths.
  federation:
    address: ""
    tls_cert: ""
    tls_key: ""
  # Prometheus metrics at /metrics. Empty address disables it.
  metrics:
    address: "127.0.0.1:9108"

database:
  # "sqlite": one SQLite file per component in data_dir (zero set-up).
  # "postgres://user:password@host:5432/axon?sslmode=disable": one shared
  # PostgreSQL database; each component keeps its own tables.
  default: "sqlite"
  # Per-component overrides (empty: use default).
  userapi: ""
  roomserver: ""
  syncapi: ""
  keyserver: ""
  mediaapi: ""
  federationapi: ""
  appservice: ""

nats:
  # Empty: run NATS JetStream embedded in the process (store in data_dir).
  # Set to an external cluster to run components on several machines:
  # ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]
  urls: []
  # Namespaces streams so several deployments can share a cluster.
  prefix: "axon"
  # Stream replicas on an external cluster.
  replicas: 1

registration:
  # closed: only 'axon create-account' and the shared-secret admin API.
  # open: anyone may register.  token: needs a registration token.
  # shared_secret: like closed, with the shared-secret admin API enabled.
  mode: "closed"
  # Enables /_synapse/admin/v1/register (HMAC of this secret). Works in
  # every mode when set.
  shared_secret: ""
  # Registration tokens accepted in mode "token". They are copied into the
  # database on start (unlimited uses, never expiring); more can be made,
  # limited or removed with the admin API (/_synapse/admin/v1/registration_tokens).
  tokens: []
  allow_guests: false
  min_password_length: 8
  # bcrypt cost for stored passwords (4-14). Each +1 doubles the CPU one
  # login or registration costs; 10 is about 50 ms on one core.
  password_hash_cost: 10
  # If set (e.g. 1h), clients that support refresh tokens get access tokens
  # that expire after this long, plus a refresh token.
  access_token_lifetime: 0s
  # Logged-in users may mint a single-use login token valid for 2 minutes
  # (POST /_matrix/client/v1/login/get_token, after re-entering their
  # password) to log another device in with m.login.token.
  get_login_token: true

rate_limits:
  enabled: true
  # Per client IP and per user.
  login:
    per_second: 0.5
    burst: 10
  # Per client IP.
  registration:
    per_second: 1
    burst: 20
  # Events sent, per user.
  messages:
    per_second: 20
    burst: 100
  # Rooms created, per user (each is several events and state to keep).
  room_creation:
    per_second: 0.05
    burst: 10
  # Typing notifications, per user.
  typing:
    per_second: 2
    burst: 20
  # /sendToDevice requests, per user (one request may address many devices).
  to_device:
    per_second: 20
    burst: 100
  # Media uploads (and asynchronous upload IDs), per user.
  media_uploads:
    per_second: 1
    burst: 20
  # Reports of rooms, events and users, per user.
  reports:
    per_second: 0.1
    burst: 10
  # IPs or CIDRs never limited (bridges, load tests).
  exempt_ips: []

# Server notices: messages from the server to a user (terms of service,
# maintenance) in a room of its own, tagged m.server_notice, sent with
# POST /_synapse/admin/v1/send_server_notice or "axon admin notice".
server_notices:
  enabled: false
  # The sending user, created on first use.
  localpart: "notices"
  display_name: "Server Notices"
  room_name: "Server Notices"

logging:
  # debug, info, warn or error.
  level: "info"
  # text (for people) or json (for log collectors). Libraries' logs
  # (gomatrixserverlib) go through the same logger and format.
  format: "text"
  # One line per HTTP request: method, route template (not the raw path,
  # so no IDs or tokens), status, duration and the authenticated user.
  access_log: false

limits:
  # Largest request body accepted (media uploads excepted). A larger
  # declared Content-Length is refused (413) before reading.
  max_request_bytes: 1048576
  # Largest media upload.
  max_upload_bytes: 104857600
  # Time allowed to receive a request's headers, and its body (a body
  # larger than max_request_bytes, i.e. an upload, gets proportionally
  # more: a minimum transfer rate). Slow clients past it are cut off so
  # they cannot hold connections open.
  header_timeout: 10s
  body_timeout: 60s
  # Idle keep-alive connections are closed after this long.
  idle_timeout: 120s
  # Open connections allowed from one client IP (IPv6: one /64) per
  # listener; more are closed at once. Trusted proxies are exempt.
  # 0: no cap.
  max_connections_per_ip: 500
  # Soft memory limit in MiB for the Go heap: the garbage collector works
  # harder as the heap nears it, trading CPU for a smaller footprint.
  # 0 leaves Go's default. The GOMEMLIMIT environment variable overrides it.
  # Without a limit too, Axon collects at 50 % heap growth (GOGC=50)
  # unless the GOGC environment variable says otherwise.
  memory_limit_mb: 0

rooms:
  # Room version for new rooms; clients may ask for another (1-12).
  default_version: "10"

presence:
  # Turn off to save work on large servers.
  enabled: true

# Whom to contact about this server (/.well-known/matrix/support);
# unset: 404.
support:
  # - role: m.role.admin          # or m.role.security
  #   matrix_id: "@admin:example.org"
  #   email_address: admin@example.org
  contacts: []
  support_page: ""

# TURN for voice and video calls, with coturn's shared secret
# (use-auth-secret, static-auth-secret). Without turn_uris clients get
# no TURN server.
voip:
  turn_uris: []             # e.g. ["turn:turn.example.org:3478?transport=udp"]
  turn_shared_secret: ""
  turn_user_lifetime_seconds: 86400
  turn_allow_guests: true

user_directory:
  # Users find the people they share a room with and the members of
  # public rooms; true also finds every local user.
  search_all_users: false

push:
  # Non-public IPs/CIDRs push gateways may be on (a gateway in your own
  # network). Users choose gateway URLs, so each entry lets them make the
  # server send requests there.
  allowed_private_networks: []

federation:
  enabled: true
  # Skip TLS certificate checks towards other servers. Private test
  # networks only: never on the public network.
  insecure_skip_verify: false
  # Servers trusted to vouch for other servers' keys.
  trusted_key_servers: ["matrix.org"]
  # Outbound federation never connects to loopback, private, link-local
  # or other non-public addresses (so a server name like "127.0.0.1:5432"
  # cannot make us probe our own network), except those listed here
  # (IPs or CIDRs), e.g. ["10.0.0.0/8"] for a private federation.
  allowed_private_networks: []

# The content repository (uploads, downloads, thumbnails, URL previews).
# The largest upload is limits.max_upload_bytes.
media:
  # "file": content-addressed files under base_path (identical uploads
  # are stored once). "s3": an S3-compatible object store (below).
  storage: "file"
  # Files (and, for s3, temporary upload files); relative to data_dir.
  base_path: "media"
  s3:
    # host:port or an http(s):// URL (http:// means no TLS).
    endpoint: ""
    bucket: ""
    access_key: ""
    secret_key: ""
    region: ""
    # Bucket in the path (most self-hosted servers) rather than in the
    # host name.
    path_style: false
    # Put before every object key.
    prefix: ""
  # Made for every uploaded image; other sizes are made when asked for.
  thumbnail_sizes:
    - {width: 32, height: 32, method: crop}
    - {width: 96, height: 96, method: crop}
    - {width: 320, height: 240, method: scale}
    - {width: 640, height: 480, method: scale}
    - {width: 800, height: 600, method: scale}
  # Images declaring more pixels are not decoded (decompression bombs):
  # they download but get no thumbnail.
  max_image_pixels: 32000000
  # How long an ID from /_matrix/media/v1/create waits for its upload.
  unused_expiry: 24h0m0s
  # Created-but-not-uploaded IDs one user may hold.
  max_pending_uploads: 10
  # Date (2024-09-01) or RFC 3339 time from which newly uploaded or
  # cached media is served only by the authenticated endpoints (the
  # Matrix 1.12 "freeze"). Empty: legacy downloads serve everything.
  freeze_legacy_after: ""
  # Serve /_matrix/federation/v1/media/* to other servers. Turning it off
  # makes peers use the legacy download.
  serve_federation_media: true
  # Bound for fetching one file from another server.
  remote_timeout: 2m0s
  # Cached remote media not downloaded for this long is dropped (and
  # fetched again when asked for). 0s keeps it forever.
  remote_cache_max_age: 0s
  url_preview:
    # Off by default: the server fetches any URL a user asks for.
    enabled: false
    # Never fetched from, checked on the resolved address of every
    # connection (redirects too). Default: every non-public range.
    ip_range_blacklist: ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.0.0/24", "169.254.0.0/16", "192.88.99.0/24", "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "0.0.0.0/8", "255.255.255.255/32", "::1/128", "::/128", "fe80::/10", "fc00::/7", "2001:db8::/32", "ff00::/8", "fec0::/10", "64:ff9b::/96", "::ffff:0:0/96", "2001::/32", "2002::/16"]
    # Allowed even when in the blacklist.
    ip_range_whitelist: []
    max_page_bytes: 10485760
    max_redirects: 5
    timeout: 10s

# Application services (bridges to IRC, Slack, WhatsApp…, bots): paths to
# the registration YAML files the bridges generate (id, url, as_token,
# hs_token, sender_localpart, namespaces…). Relative paths are resolved
# against data_dir. Checked at start-up: a bad file stops the server with
# the file and key at fault. See docs/appservices.md.
# app_services: ["/etc/axon/whatsapp-registration.yaml"]
app_services: []

# Components this process runs. Empty: all of them (monolith). For a
# polylith, start the same binary several times with different lists,
# sharing PostgreSQL and an external NATS cluster.
components: []

# Several roomserver processes (docs/scaling.md): rooms are hashed into
# partitions, and each process running the roomserver with an instance
# name takes a share of them through leases in NATS, taking over a dead
# process's share within about lease_ttl. Only for processes running just
# the roomserver (components: [roomserver]); needs PostgreSQL for it and an
# external NATS. Empty instance: one roomserver. The same keys (instance,
# lease_ttl) run several syncapi, keyserver or appservice processes
# (components: [syncapi] etc.): all serve requests from the shared tables,
# the one holding the component's writer lease consumes the streams and
# delivers (pushes, appservice transactions). Several federationapi
# processes (components: [federationapi]) share the destination servers by
# partition: each sends to the destinations of the partitions it holds,
# all serve inbound federation.
partitioning:
  # This process's name among its component's processes ('axon run --instance').
  instance: ""
  # How many partitions; the same in every process.
  partitions: 64
  # How long a lease lasts unrenewed (1s-60s).
  lease_ttl: 5s
`
