//go:build cuda

package kernels

import "errors"

// uploader copies host bytes to the device through two pinned staging
// buffers: while the GPU copies one chunk, the CPU fills the other. Pinned
// memory also copies at full bus speed, which matters for a 7 GB checkpoint.
type uploader struct {
	staging [2][]byte
	done    [2]cuEvent
	used    [2]bool
	next    int // the staging buffer the next chunk goes through
	waits   int // host waits for a staging buffer to be free again
}

const uploadChunk = 16 << 20

func newUploader() (*uploader, error) {
	u := &uploader{}
	for i := range u.staging {
		var err error
		if u.staging[i], err = hostAllocPinned(uploadChunk); err != nil {
			return nil, err
		}
		if u.done[i], err = eventCreate(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// upload queues the copy of src to dst; src may be reused when it returns.
func (u *uploader) upload(dst devicePtr, src []byte, s cuStream) error {
	if len(src) <= 1<<16 {
		return copyToDevice(dst, src, s) // small: the driver stages it itself
	}
	for off := 0; off < len(src); off += uploadChunk {
		// The buffers take turns across uploads too, so that back-to-back
		// uploads (a step's inputs) find the other one free.
		i := u.next
		u.next ^= 1
		n := min(uploadChunk, len(src)-off)
		if err := u.await(i); err != nil {
			return err
		}
		copy(u.staging[i], src[off:off+n])
		if err := copyToDevice(dst+devicePtr(off), u.staging[i][:n], s); err != nil {
			return err
		}
		if err := eventRecord(u.done[i], s); err != nil {
			return err
		}
		u.used[i] = true
	}
	return nil
}

// await returns once staging buffer i is free: at once when the copy
// that last used it has finished (a host wait is counted only when the
// host really has to wait for it).
func (u *uploader) await(i int) error {
	if !u.used[i] {
		return nil
	}
	done, err := eventDone(u.done[i])
	if err != nil || done {
		return err
	}
	u.waits++
	return eventSync(u.done[i])
}

func (u *uploader) close() error {
	var errs []error
	for i := range u.staging {
		if u.used[i] {
			errs = append(errs, eventSync(u.done[i]))
		}
		errs = append(errs, eventDestroy(u.done[i]), hostFreePinned(u.staging[i]))
	}
	return errors.Join(errs...)
}
