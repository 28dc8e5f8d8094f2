package api

// UserAPI is what other components may ask of the userapi. In a monolith
// it is the userapi itself; in a polylith, a NATS request/reply client.
type UserAPI interface {
}
