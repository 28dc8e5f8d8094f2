// Package matrixrules is the one home of the Matrix rules more than one
// component applies: which room versions the server supports and what
// each can do, a user's power level (room v12 creators included) and the
// level an event or an @room notification needs, which membership changes
// a request may ask for, what a local event's fields must look like (the
// content types of the state events servers read, statecontent.go), server
// ACL matching (serveracl.go) and the v12 creator rules (creators.go).
//
// Where gomatrixserverlib already encodes a rule (its room version
// implementations, its power levels parser) this package asks it instead
// of restating it; what is here is the glue every component would
// otherwise write itself. It imports no component.
package matrixrules
