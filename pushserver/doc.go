// Package pushserver owns pushers (GET /pushers, POST /pushers/set) and
// delivers notifications to their push gateways
// (POST /_matrix/push/v1/notify, the Push Gateway API).
//
// What to deliver comes from syncapi, which evaluates push rules and
// stores each user's notifications: the pushserver reads a user's
// notifications after a pusher's stored position (NotificationSource),
// POSTs each to the gateway and stores the new position, so a restart or
// a gateway outage loses nothing (a gateway may see a notification twice
// after a crash; it deduplicates by event_id as the spec asks). syncapi
// wakes the pushserver when notifications commit and when a user sends a
// read receipt (then a counts-only notify updates the badge). The users
// it wakes were listed before the commit (Wakeups.PusherUsers); pushers
// taken on after the listing are woken as well.
//
// Delivery: one goroutine per pusher with work, each request with a
// timeout, so a slow gateway never holds up another; a failing gateway
// URL backs off exponentially (1 s to 5 min) for all its pushers; a
// notification a gateway keeps refusing for a day is skipped; pushkeys a
// gateway lists in "rejected" lose their pusher. Gateways on private or
// loopback addresses are refused (internal/netguard) unless listed in
// push.allowed_private_networks.
// Only "http" pushers exist: "email" pushers are refused (not built).
//
// Tables (prefix pushserver_): pushers (with delivered_pos). A pusher
// created by a device is removed with the device (user_devices stream);
// GET /pushers first waits briefly until that consumer's stored position
// reaches the stream's head (pushers_catchup.go).
//
// The pushserver runs in the process that runs syncapi (it reads
// syncapi's notifications in-process). With several syncapi processes
// every one serves the routes and delivery runs in the one holding the
// pushserver writer lease (replicas.go; docs/scaling.md), table
// pushserver_writer.
package pushserver
