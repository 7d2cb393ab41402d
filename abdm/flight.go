package abdm

import (
	"context"
	"sync"
)

// flight lets concurrent callers share one fetch that is already in
// progress, so a cold cache under load costs the gateway one call, not one
// per caller. The fetch runs on its own goroutine: a caller that gives up
// (its context ends) does not cancel the fetch for the others waiting.
type flight[T any] struct {
	mu   sync.Mutex
	call *flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do runs fn unless a call is already running, then waits for that call's
// result or for ctx to end. fn must bound its own duration.
func (f *flight[T]) do(ctx context.Context, fn func() (T, error)) (T, error) {
	f.mu.Lock()
	c := f.call
	if c == nil {
		c = &flightCall[T]{done: make(chan struct{})}
		f.call = c
		go func() {
			c.val, c.err = fn()
			f.mu.Lock()
			f.call = nil
			f.mu.Unlock()
			close(c.done)
		}()
	}
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
