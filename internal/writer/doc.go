// Package writer lets several processes of one component serve requests
// side by side while the work that must happen once — consuming streams
// into the component's tables, delivering queues — runs in exactly one of
// them: the holder of the component's writer lease (internal/lease with
// one partition, bucket <prefix>_<component>_leases).
//
// A new holder records the lease epoch in the component's writer table
// (Fence.Claim) and then starts the work, whose consumers resume from the
// positions stored with what was applied; every consumer transaction
// checks the epoch (Fence.Check, FOR SHARE on PostgreSQL), so a former
// holder paused past its lease (GC stall, SIGSTOP, cut network) commits
// nothing more and gives the lease up (Writer.Fenced). A refusal for that
// reason is never dead-lettered (Writer.DeadLetterer).
//
// One process of a component (no instance name) builds none of this: its
// Fence is never set and checks nothing.
package writer
