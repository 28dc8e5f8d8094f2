// Package reports takes users' reports of rooms, events and other users
// (POST /rooms/{roomId}/report[/{eventId}], POST /users/{userId}/report)
// and stores them (reporter, target, reason, score, time) for server
// administrators. api.ReportsAPI (reports_admin.go; served over RPC in a
// polylith) lets the admin API page through, read and delete reports of
// events.
//
// Every well-formed report is answered 200, whether or not the room,
// event or user exists or the reporter may see it, as the spec allows: a
// 404 would tell the reporter about rooms they are not in. Reports are
// rate-limited per user (rate_limits.reports) and bounded in size.
//
// Tables (prefix reports_): reports. No streams in or out.
package reports
