package stream

import (
	"context"
	"errors"
	"testing"
)

// consumerUntil is a stand-in consumer: done when ctx ends.
func consumerUntil(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() { <-ctx.Done(); close(done) }()
	return done
}

func TestRunning(t *testing.T) {
	var r Running
	if r.Stop() {
		t.Fatal("Stop reported consumers before any started")
	}
	// A failed start stops what it started.
	var started <-chan struct{}
	err := r.Start(func(ctx context.Context) ([]<-chan struct{}, error) {
		started = consumerUntil(ctx)
		return []<-chan struct{}{started}, errors.New("second consumer failed")
	})
	if err == nil {
		t.Fatal("the start error was lost")
	}
	<-started // ended, not leaked
	if r.Stop() {
		t.Fatal("Stop reported consumers after a failed start")
	}
	if err := r.Start(func(ctx context.Context) ([]<-chan struct{}, error) {
		started = consumerUntil(ctx)
		return []<-chan struct{}{started}, nil
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
		t.Fatal("a consumer ended before Stop")
	default:
	}
	if !r.Stop() {
		t.Fatal("Stop did not report the running consumers")
	}
	<-started
}
