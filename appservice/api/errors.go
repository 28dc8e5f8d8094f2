package api

import (
	"errors"
	"fmt"

	"github.com/axon-hs/axon/internal/rpc"
)

// Errors callers answer differently (match with errors.Is).
var (
	ErrUnknownAppservice = errors.New("unknown appservice")
	ErrNoURL             = errors.New("appservice has no URL")
	ErrUnknownProtocol   = errors.New("no appservice provides this protocol")
)

// PingError says how reaching an appservice failed.
type PingError struct {
	// Kind is "status" (it answered Status with Body), "timeout" or
	// "connection".
	Kind   string `json:"kind"`
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func (e *PingError) Error() string {
	if e.Kind == "status" {
		return fmt.Sprintf("appservice answered %d", e.Status)
	}
	return "appservice " + e.Kind + ": " + e.Detail
}

func init() {
	rpc.RegisterSentinel("appservice.unknown", ErrUnknownAppservice)
	rpc.RegisterSentinel("appservice.no_url", ErrNoURL)
	rpc.RegisterSentinel("appservice.unknown_protocol", ErrUnknownProtocol)
	rpc.RegisterErrorType("appservice.ping", &PingError{})
}
