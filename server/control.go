package server

import (
	"context"
	"errors"
	"sync"
)

// Errors a job's context is cancelled with.
var (
	ErrInterrupted  = errors.New("interrupted")
	ErrSkipped      = errors.New("skipped")
	ErrShuttingDown = errors.New("the server is shutting down")
)

// Control lets /sdapi/v1/interrupt and /skip reach a running job: skip
// ends the current batch iteration, interrupt ends the job. As A1111, both
// keep what is finished and the stopped iteration's images as far as they
// got (sdxl.Request.KeepPartial).
type Control struct {
	mu          sync.Mutex
	cancelIter  context.CancelCauseFunc
	interrupted bool
	skipped     bool
	watch       func(action string)
}

// Watch calls f with "skip" or "interrupt" whenever one arrives: how a
// Runner whose jobs run elsewhere passes them on.
func (c *Control) Watch(f func(action string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watch = f
}

func (c *Control) notify(action string) {
	c.mu.Lock()
	f := c.watch
	c.mu.Unlock()
	if f != nil {
		f(action)
	}
}

// Iteration returns the context of the next batch iteration, or a done
// one once the job was interrupted.
func (c *Control) Iteration(parent context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelIter = cancel
	c.skipped = false
	if c.interrupted {
		cancel(ErrInterrupted)
	}
	return ctx, cancel
}

// Skip ends the running iteration.
func (c *Control) Skip() {
	c.mu.Lock()
	c.skipped = true
	if c.cancelIter != nil {
		c.cancelIter(ErrSkipped)
	}
	c.mu.Unlock()
	c.notify("skip")
}

// Interrupt ends the job after the step under way.
func (c *Control) Interrupt() {
	c.mu.Lock()
	c.interrupted = true
	if c.cancelIter != nil {
		c.cancelIter(ErrInterrupted)
	}
	c.mu.Unlock()
	c.notify("interrupt")
}

// State reports whether the job was interrupted or its current iteration
// skipped.
func (c *Control) State() (interrupted, skipped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupted, c.skipped
}
