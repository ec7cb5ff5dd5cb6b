//go:build cuda

package kernels

// Time runs queue (which queues GPU work on this backend) and returns the GPU
// time it took in milliseconds, measured with events on the stream.
func (b *Backend) Time(queue func()) (float32, error) {
	var start, end cuEvent
	var err error
	b.w.do(func() {
		if start, err = eventCreate(); err != nil {
			return
		}
		if end, err = eventCreate(); err != nil {
			return
		}
		err = eventRecord(start, b.stream)
	})
	if err != nil {
		return 0, err
	}
	queue()
	var ms float32
	b.w.do(func() {
		defer eventDestroy(start)
		defer eventDestroy(end)
		if err = b.err; err != nil {
			return
		}
		if err = eventRecord(end, b.stream); err == nil {
			b.counts.Syncs++
			if err = eventSync(end); err == nil {
				ms, err = eventElapsed(start, end)
			}
		}
	})
	return ms, err
}
