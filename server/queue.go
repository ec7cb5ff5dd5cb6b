package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"
)

// job is one request waiting for, or getting, its answer.
type job struct {
	spec     *Spec
	ctx      context.Context
	ctl      *Control
	enqueued time.Time
	done     chan jobResult // buffered: the runner never waits for the handler

	mu       sync.Mutex
	started  time.Time
	progress Progress
}

type jobResult struct {
	out *Output
	err error
}

func (j *job) setProgress(p Progress) {
	j.mu.Lock()
	if p.Preview == "" {
		p.Preview = j.progress.Preview // the latest preview stays until the next
	}
	j.progress = p
	j.mu.Unlock()
}

func (j *job) snapshot() (Progress, time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.progress, j.started
}

// queue is a bounded FIFO in front of a Runner, worked by a fixed number
// of goroutines (one for a local model: the device runs one job at a
// time). A job is answered exactly once: by its runner, or with the
// reason it never ran (cancelled while waiting, server shutting down).
type queue struct {
	runner  Runner
	pending chan *job
	metrics *metrics
	workers sync.WaitGroup
	// onIdle, when set, runs on a worker after a job when none waits
	// (Config.TrimWhenIdle).
	onIdle func()

	mu      sync.Mutex
	closed  bool
	running map[*job]struct{}
	avgJob  time.Duration // moving average of run time, for Retry-After
	order   []*job        // running jobs, oldest first, for /progress
}

func newQueue(r Runner, maxQueue, workers int, m *metrics, onIdle func()) *queue {
	q := &queue{runner: r, pending: make(chan *job, maxQueue), metrics: m, running: map[*job]struct{}{}, onIdle: onIdle}
	for i := 0; i < workers; i++ {
		q.workers.Add(1)
		go q.work()
	}
	return q
}

// submit enqueues a job, or refuses it at once with 503 and Retry-After
// when the queue is full or closing.
func (q *queue) submit(ctx context.Context, spec *Spec) (*job, error) {
	j := &job{spec: spec, ctx: ctx, ctl: &Control{}, enqueued: time.Now(), done: make(chan jobResult, 1)}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, &httpError{status: http.StatusServiceUnavailable, detail: ErrShuttingDown.Error(), retryAfter: 10}
	}
	select {
	case q.pending <- j:
		q.metrics.queueDepth.Set(float64(len(q.pending)))
		return j, nil
	default:
		q.metrics.rejected.Inc()
		return nil, &httpError{status: http.StatusServiceUnavailable,
			detail:     "the queue is full (--max-queue); try again later",
			retryAfter: q.retryAfterLocked()}
	}
}

// retryAfterLocked estimates, in whole seconds, when a place frees up.
func (q *queue) retryAfterLocked() int {
	est := q.avgJob.Seconds()
	if est <= 0 {
		est = 1
	}
	return int(math.Min(600, math.Max(1, math.Ceil(est))))
}

func (q *queue) work() {
	defer q.workers.Done()
	for j := range q.pending {
		q.metrics.queueDepth.Set(float64(len(q.pending)))
		q.run(j)
		if q.onIdle != nil && len(q.pending) == 0 {
			q.onIdle()
		}
	}
}

func (q *queue) run(j *job) {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		j.done <- jobResult{err: ErrShuttingDown}
		q.metrics.finished(ErrShuttingDown, 0)
		return
	}
	if err := j.ctx.Err(); err != nil {
		// The client left (or timed out) while waiting: never run it.
		j.done <- jobResult{err: context.Cause(j.ctx)}
		q.metrics.finished(context.Cause(j.ctx), 0)
		return
	}
	q.mu.Lock()
	q.running[j] = struct{}{}
	q.order = append(q.order, j)
	q.mu.Unlock()
	j.mu.Lock()
	j.started = time.Now()
	j.mu.Unlock()
	q.metrics.running.Inc()

	out, err := q.runner.Run(j.ctx, j.spec, j.ctl, func(p Progress) {
		if p.Step > 0 {
			q.metrics.steps.Inc()
		}
		j.setProgress(p)
	})
	took := time.Since(j.started)

	q.metrics.running.Dec()
	q.mu.Lock()
	delete(q.running, j)
	for i, o := range q.order {
		if o == j {
			q.order = append(q.order[:i], q.order[i+1:]...)
			break
		}
	}
	if err == nil {
		if q.avgJob == 0 {
			q.avgJob = took
		} else {
			q.avgJob = (q.avgJob*4 + took) / 5
		}
	}
	q.mu.Unlock()
	q.metrics.finishedOutput(out, err, took)
	j.done <- jobResult{out: out, err: err}
}

// current returns the oldest running job and how many jobs are queued or
// running.
func (q *queue) current() (*job, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.pending) + len(q.running)
	if len(q.order) == 0 {
		return nil, n
	}
	return q.order[0], n
}

// eachRunning calls f for every running job.
func (q *queue) eachRunning(f func(*job)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for j := range q.running {
		f(j)
	}
}

// close refuses new jobs, answers the waiting ones with 503 and returns
// once the running ones are done (or ctx ends).
func (q *queue) close(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.pending)
	q.mu.Unlock()
	// The workers answer what is still waiting without running it.
	finished := make(chan struct{})
	go func() { q.workers.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return errors.New("shutdown: a running job did not finish in time")
	}
}
