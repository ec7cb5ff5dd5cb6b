package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor splits [0, n) into chunks of at least minChunk items and runs
// body on them from up to runtime.NumCPU() goroutines. Small jobs run on
// the calling goroutine, where starting goroutines would cost more than the
// work.
func parallelFor(n, minChunk int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	workers := runtime.NumCPU()
	if minChunk < 1 {
		minChunk = 1
	}
	if workers == 1 || n <= minChunk {
		body(0, n)
		return
	}
	// Several chunks per worker balance uneven chunk costs.
	chunk := max(minChunk, (n+4*workers-1)/(4*workers))
	chunks := (n + chunk - 1) / chunk
	workers = min(workers, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				lo := c * chunk
				body(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}
