// Package rpctest is a small interface served over internal/rpc in tests,
// with its generated client.
package rpctest

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface Greeter

import (
	"context"
	"errors"
	"time"
)

// ErrNobody is a sentinel that must survive the trip.
var ErrNobody = errors.New("nobody to greet")

// CodedError is a typed error that must survive the trip.
type CodedError struct {
	Code string `json:"code"`
}

func (e *CodedError) Error() string { return "coded: " + e.Code }

// Card is a structured argument and result.
type Card struct {
	To   string    `json:"to"`
	Tags []string  `json:"tags"`
	At   time.Time `json:"at"`
}

// Greeter is the served interface.
type Greeter interface {
	Greet(ctx context.Context, name string, times int) (string, error)
	Send(ctx context.Context, card *Card) (accepted bool, id string, err error)
	Fail(ctx context.Context, kind string) error
	Slow(ctx context.Context) error
}
