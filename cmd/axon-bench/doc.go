// Command axon-bench is a load generator for Matrix homeservers.
//
// It speaks only the Client-Server API (plus the Synapse-compatible
// shared-secret registration admin API when --shared-secret is given), so the
// same numbers can be taken from Axon, Synapse, Dendrite or any other server.
//
// Usage:
//
//	axon-bench [global flags] <scenario> [scenario flags]
//
// Scenarios:
//
//	register      N users registered with concurrency C: users/s and latency
//	send          C senders PUT m.room.message into one shared room and/or one
//	              room each: acknowledged events/s and latency
//	sync-latency  one sender, one long-polling /sync receiver (or -receivers
//	              N): send→visible delivery latency and lost messages
//	initial-sync  a user in R rooms with K messages each: time of the initial
//	              /sync, repeated
//	herd          H clients of a big room all do their initial /sync at the
//	              same moment: errors, time to all done, per-request latency
//	mixed         S senders, L long-polling receivers, registrations and
//	              profile changes at once for T: delivery lag p50/p99 under
//	              load, lost deliveries, catch-up time after the load
//	bigroom       for each room size N (-members 2,1000,10000): O members
//	              long-poll /sync in the room while S send for T: events/s,
//	              server CPU per event, delivery to every long-poll (lost);
//	              then the lazy-loading initial /sync of one member
//	all           every scenario above with moderate defaults (bigroom
//	              with rooms of 2 and 200 members)
//
// Each scenario sets up its own users and rooms (not measured), then runs a
// measured phase. Results are printed as a human summary on stdout and can be
// written as a JSON array with --json. With --pid the server's peak and
// current RSS are read from /proc after each measured phase, and its user
// and system CPU time (/proc/PID/stat) before and after it: the phase's
// CPU and CPU per counted unit (µs per acknowledged event, per sync, ...).
// Only that process is counted: a database server's own CPU is not.
//
// Latencies are taken from the final attempt of each request: 429
// M_LIMIT_EXCEEDED responses are retried after retry_after_ms and counted, but
// the back-off time is not added to latencies. The number of 429s is reported
// because rate limiting lowers throughput and should be disabled on the server
// being measured.
//
// Users are named <prefix>-<scenario>-<i>; the prefix is random per run so
// reruns against the same server don't collide.
package main
