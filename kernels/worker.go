//go:build cuda

package kernels

import (
	"runtime"
	"sync"
	"syscall"
)

// worker owns the CUDA context. A context is current on one OS thread, so all
// driver calls (gorgonia.org/cu's plain functions act on the calling thread's
// current context) run on a single goroutine that locked its thread and
// created the context there; callers hand it closures and wait. Backend methods may therefore be called from any
// goroutine (tests run subtests on fresh ones), one at a time.
//
// Each hand-off wakes the locked thread and waits for it, a few
// microseconds; a UNet step makes thousands of calls. A caller that runs a
// whole model call on the thread (Backend.OnDeviceThread) makes none: do
// recognises its own thread and runs the closure in place.
type worker struct {
	mu      sync.Mutex
	reqs    chan func()
	done    chan struct{}
	stopped bool
	tid     int // the locked thread's id, set before startWorker returns
}

// startWorker starts the context goroutine and runs setup on it first.
func startWorker(setup func() error) (*worker, error) {
	w := &worker{reqs: make(chan func()), done: make(chan struct{})}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		// A locked thread runs this goroutine only: its id tells do that
		// the caller is this goroutine.
		w.tid = syscall.Gettid()
		if err := setup(); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for f := range w.reqs {
			f()
			w.done <- struct{}{}
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return w, nil
}

// do runs f on the context goroutine and waits for it. After stop there is
// no context: using the backend then is a programmer error, named as such.
func (w *worker) do(f func()) {
	if syscall.Gettid() == w.tid { // called from f of an enclosing do: already here
		f()
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		panic("kernels: the CUDA backend was used after Close")
	}
	w.reqs <- f
	<-w.done
}

// stop ends the goroutine after running last on it.
func (w *worker) stop(last func()) {
	w.do(last)
	w.mu.Lock()
	close(w.reqs)
	w.stopped = true
	w.mu.Unlock()
}
