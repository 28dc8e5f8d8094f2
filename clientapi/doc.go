// Package clientapi serves the Client-Server API routes that belong to no
// other component: versions and well-known, registration, login and
// user-interactive auth, account, devices, profiles and account data
// (calling the userapi), and room creation, membership, sending, state,
// redaction, aliases, the room directory, upgrades, the space hierarchy
// and room summaries (calling the roomserver; rooms this server is not in
// through the federationapi's QueryHierarchy, cached a minute,
// room_hierarchy_remote.go). /sync, /messages and the live streams are
// syncapi's; the E2EE key endpoints are the keyserver's.
//
// It owns no tables and no streams: it turns HTTP requests into calls on
// the userapi and roomserver interfaces (local, or over NATS RPC in a
// polylith) and answers with Matrix errors.
//
// Files: routes.go (the one route table), errors.go (other components'
// errors as Matrix errors, one place), account_*.go (accounts), auth_*.go
// (login identifiers, UIA), room_*.go / membership_*.go / directory_*.go
// (rooms), ratelimit.go (per-route limits).
package clientapi
