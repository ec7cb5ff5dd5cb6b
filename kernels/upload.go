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
	for i, off := 0, 0; off < len(src); i, off = i^1, off+uploadChunk {
		n := min(uploadChunk, len(src)-off)
		if u.used[i] {
			u.waits++
			if err := eventSync(u.done[i]); err != nil {
				return err
			}
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
