//go:build cuda

package kernels

import (
	"errors"
	"fmt"
)

// Graph is a captured sequence of launches that replays with one call, which
// removes per-launch CPU overhead from a denoising step. Addresses are baked
// in: the tensors it reads and writes must stay allocated until Destroy, and
// scratch memory released during capture is held until then too.
type Graph struct {
	b        *Backend
	graph    cuGraph
	exec     cuGraphEx
	retained []deviceBuffer
	kernels  int64 // launches captured: what one replay runs
}

// Capture records the work that record queues (no synchronising calls such as
// ToFloat32 or Sync inside) and instantiates it as a graph.
func (b *Backend) Capture(record func()) (*Graph, error) {
	b.settleAll() // a self-check synchronises: never inside the capture
	g := &Graph{b: b}
	var err error
	b.w.do(func() {
		if b.capture != nil {
			err = errors.New("cuda: Capture called while already capturing")
			return
		}
		if err = b.err; err == nil {
			err = captureBegin(b.stream)
		}
		if err == nil {
			b.capture = g
		}
	})
	if err != nil {
		return nil, err
	}
	record()
	b.w.do(func() {
		b.capture = nil
		var endErr error
		g.graph, endErr = captureEnd(b.stream)
		if b.err == nil {
			b.err = endErr
		}
		if err, b.err = b.err, nil; err != nil {
			return
		}
		g.exec, err = graphInstantiate(g.graph)
	})
	if err != nil {
		g.Destroy()
		return nil, fmt.Errorf("cuda: capturing graph: %w", err)
	}
	return g, nil
}

// Launch replays the graph on the backend's stream.
func (g *Graph) Launch() {
	g.b.w.do(func() {
		if g.b.err == nil {
			g.b.counts.Launches += g.kernels
			g.b.err = graphLaunch(g.exec, g.b.stream)
		}
	})
}

// Destroy frees the graph and returns the memory it held to the pool.
func (g *Graph) Destroy() {
	b := g.b
	b.w.do(func() {
		b.syncStream()
		if g.exec != (cuGraphEx{}) {
			graphExecDestroy(g.exec)
		}
		if g.graph != (cuGraph{}) {
			graphDestroy(g.graph)
		}
		for _, buf := range g.retained {
			if err := b.giveBack(buf); err != nil && b.err == nil {
				b.err = fmt.Errorf("cuda: graph: %w", err)
			}
		}
		g.retained, g.exec, g.graph = nil, cuGraphEx{}, cuGraph{}
	})
}
