package reports

// registerRoutes adds the report routes to base.Client.
func (r *Reports) registerRoutes() {
	c := r.base.Client
	c.HandleClientAuthed("POST /rooms/{roomId}/report/{eventId}", r.handleReportEvent)
	c.HandleClientAuthed("POST /rooms/{roomId}/report", r.handleReportRoom)
	c.HandleClientAuthed("POST /users/{userId}/report", r.handleReportUser)
}
