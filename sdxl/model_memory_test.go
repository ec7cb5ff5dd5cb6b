package sdxl

import "testing"

// On the CPU there is no device memory: nothing to report or release.
func TestModelMemoryOnTheCPU(t *testing.T) {
	m := &Model{backend: newTestCPU(t)}
	if freed, err := m.ReleaseCachedMemory(); freed != 0 || err != nil {
		t.Errorf("ReleaseCachedMemory on the CPU: %d, %v", freed, err)
	}
	if _, ok, err := m.DeviceMemory(); ok || err != nil {
		t.Errorf("DeviceMemory on the CPU: ok %v, %v", ok, err)
	}
}
