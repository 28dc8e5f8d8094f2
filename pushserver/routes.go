package pushserver

// registerRoutes adds the pusher routes to base.Client.
func (p *PushServer) registerRoutes() {
	r := p.base.Client
	r.HandleClientAuthed("GET /pushers", p.handleGetPushers)
	r.HandleClientAuthed("POST /pushers/set", p.handleSetPusher)
}
