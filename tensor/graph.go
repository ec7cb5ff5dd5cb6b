package tensor

// Graph is device work recorded once and replayed with one call: a
// denoising step's ~1,300 kernel launches cost one host call instead of
// one each. What it reads and writes keeps its address between replays, so
// inputs are written into the same tensors before each Launch and outputs
// read from the same tensors after it.
type Graph interface {
	// Launch queues one replay of the recorded work.
	Launch()
	// Destroy releases the graph and the memory it holds.
	Destroy()
}

// GraphCapturer is implemented by backends that can record work as a Graph
// (kernels/, with CUDA graphs). Callers find it by type assertion and
// otherwise, or when CaptureGraph fails, run the work directly: a graph is
// only ever a faster way of issuing the same operations.
type GraphCapturer interface {
	// CaptureGraph runs record, whose operations are recorded instead of
	// executed: record must not read results back or synchronise, and the
	// tensors it uses that outlive it must outlive the graph. Memory record
	// frees is held by the graph until Destroy. The work runs on Launch.
	CaptureGraph(record func()) (Graph, error)
}
