//go:build cuda

package kernels

import (
	"errors"
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Graph is a captured sequence of launches that replays with one call, which
// removes per-launch CPU overhead from a denoising step. Addresses are baked
// in: the tensors it reads and writes must stay allocated until Destroy.
//
// Memory released during the capture belongs to the graph until Destroy:
// replays keep using those addresses, so no other tensor may get them. The
// capture still reuses them itself (spare): the work it records runs in
// stream order, so a block freed by one op and taken by a later op of the
// same capture is as safe as in a plain step, and a captured UNet step holds
// what a plain step's peak holds, not the sum of all its activations.
type Graph struct {
	b       *Backend
	graph   cuGraph
	exec    cuGraphEx
	spare   map[int][]deviceBuffer // pool blocks released during capture, by class
	exact   []deviceBuffer         // exact blocks released during capture
	kernels int64                  // launches captured: what one replay runs
}

// Capture records the work that record queues (no synchronising calls such as
// ToFloat32 or Sync inside) and instantiates it as a graph.
func (b *Backend) Capture(record func()) (*Graph, error) {
	b.settleAll() // a self-check synchronises: never inside the capture
	g := &Graph{b: b, spare: map[int][]deviceBuffer{}}
	var err error
	b.w.do(func() {
		switch {
		case b.capture != nil:
			err = errors.New("cuda: Capture called while already capturing")
			return
		case b.opts.NoGraphs:
			err = errors.New("cuda: graphs are turned off (Options.NoGraphs, GOSDXL_CUDA_GRAPHS=0)")
			return
		case b.syncEach:
			err = errors.New("cuda: no graphs while every launch is synchronised (GOSDXL_CUDA_SYNC)")
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
			g.b.counts.GraphLaunches++
			g.b.err = graphLaunch(g.exec, g.b.stream)
		}
	})
}

// Kernels is the number of kernels one replay runs.
func (g *Graph) Kernels() int64 { return g.kernels }

// takeSpare returns a block of class released earlier in the capture, if
// any. Context goroutine only.
func (g *Graph) takeSpare(class int) (deviceBuffer, bool) {
	list := g.spare[class]
	if len(list) == 0 {
		return deviceBuffer{}, false
	}
	buf := list[len(list)-1]
	g.spare[class] = list[:len(list)-1]
	return buf, true
}

// keep holds a block released during the capture until Destroy, the pool's
// kind for reuse within the capture. Context goroutine only.
func (g *Graph) keep(buf deviceBuffer) {
	if buf.exact {
		g.exact = append(g.exact, buf)
		return
	}
	g.spare[buf.class] = append(g.spare[buf.class], buf)
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
		held := g.exact
		for _, list := range g.spare {
			held = append(held, list...)
		}
		for _, buf := range held {
			if err := b.giveBack(buf); err != nil && b.err == nil {
				b.err = fmt.Errorf("cuda: graph: %w", err)
			}
		}
		g.spare, g.exact, g.exec, g.graph = nil, nil, cuGraphEx{}, cuGraph{}
	})
}

// CaptureGraph is Capture as tensor.GraphCapturer: the pipeline records a
// UNet step with it and replays the step for every later call. A refusal
// is logged, since the steps then run launch by launch.
func (b *Backend) CaptureGraph(record func()) (tensor.Graph, error) {
	g, err := b.Capture(record)
	if err != nil {
		b.logf("%v; the work runs launch by launch", err)
		return nil, err
	}
	return g, nil
}

var _ tensor.GraphCapturer = (*Backend)(nil)
