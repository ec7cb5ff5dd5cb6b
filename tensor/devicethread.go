package tensor

// DeviceThread is implemented by backends whose calls cost a hand-off to
// another thread: the CUDA backend's context is current on one OS thread,
// and every call from elsewhere waits for that thread to take it (thousands
// per UNet step). OnDeviceThread runs f on that thread, where each backend
// call f makes goes straight to the driver.
type DeviceThread interface {
	OnDeviceThread(f func())
}

// OnDeviceThread runs f on b's device thread where b has one, otherwise
// here. f must not wait for other goroutines that use b: they wait for f.
func OnDeviceThread(b Backend, f func()) {
	if d, ok := b.(DeviceThread); ok {
		d.OnDeviceThread(f)
		return
	}
	f()
}
