package kernels

import (
	"errors"
	"testing"
)

func TestSizeClassBoundsWaste(t *testing.T) {
	prev := 0
	for n := 1; n < 1<<22; n += 1 + n/7 {
		c := sizeClass(n)
		if c < n {
			t.Fatalf("sizeClass(%d) = %d, smaller than the request", n, c)
		}
		if n > 256 && 3*(c-n) > c {
			t.Fatalf("sizeClass(%d) = %d wastes more than a third", n, c)
		}
		if c < prev {
			t.Fatalf("sizeClass not monotonic at %d: %d after %d", n, c, prev)
		}
		prev = c
	}
	for _, tc := range []struct{ n, want int }{{1, 256}, {256, 256}, {257, 384}, {384, 384}, {385, 512}, {513, 768}, {1 << 20, 1 << 20}, {1<<20 + 1, 3 << 19}} {
		if got := sizeClass(tc.n); got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// fakeDevice hands out increasing addresses and can run out of memory.
type fakeDevice struct {
	next, capacity, used int
	live                 map[devicePtr]int
}

func (d *fakeDevice) alloc(n int) (devicePtr, error) {
	if d.used+n > d.capacity {
		return 0, errors.New("out of memory")
	}
	d.next += n
	d.used += n
	d.live[devicePtr(d.next)] = n
	return devicePtr(d.next), nil
}

func (d *fakeDevice) free(p devicePtr) error {
	d.used -= d.live[p]
	delete(d.live, p)
	return nil
}

func TestPoolReusesBlocksAtSteadyState(t *testing.T) {
	dev := &fakeDevice{capacity: 1 << 30, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	step := func() {
		a, ca, _ := p.get(1000)
		b, cb, _ := p.get(5000)
		p.put(a, ca)
		c, cc, _ := p.get(900) // same class as a: must reuse it
		if c != a {
			t.Errorf("request of the same class got a new block")
		}
		p.put(b, cb)
		p.put(c, cc)
	}
	step()
	allocs := p.allocs
	for range 10 {
		step()
	}
	if p.allocs != allocs {
		t.Errorf("driver allocations grew from %d to %d at steady state", allocs, p.allocs)
	}
	s := p.stats()
	if s.InUseBytes != 0 || s.PeakInUseBytes != int64(sizeClass(1000)+sizeClass(5000)) {
		t.Errorf("stats = %+v", s)
	}
}

func TestPoolReleasesIdleBlocksWhenOutOfMemory(t *testing.T) {
	dev := &fakeDevice{capacity: 4096, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	a, ca, err := p.get(3000)
	if err != nil {
		t.Fatal(err)
	}
	p.put(a, ca)
	if _, _, err := p.get(4000); err != nil {
		t.Fatalf("idle block not released on out of memory: %v", err)
	}
	if _, _, err := p.get(4000); err == nil {
		t.Fatal("allocation beyond capacity succeeded")
	}
	if p.held != int64(dev.used) {
		t.Errorf("pool holds %d bytes, device has %d allocated", p.held, dev.used)
	}
}

// TestPoolRefusesABlockReturnedTwice: a block put back twice must not be
// handed to two later requests (two tensors sharing memory).
func TestPoolRefusesABlockReturnedTwice(t *testing.T) {
	dev := &fakeDevice{capacity: 1 << 20, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	a, ca, _ := p.get(1000)
	if err := p.put(a, ca); err != nil {
		t.Fatal(err)
	}
	if err := p.put(a, ca); err == nil {
		t.Error("second put of the same block accepted")
	}
	x, _, _ := p.get(1000)
	y, _, _ := p.get(1000)
	if x == y {
		t.Errorf("two requests got the same block %#x", uint64(x))
	}
}

// A weight takes exactly its size from the driver, is counted as held and
// in use like any block, and goes back to the driver when freed; an idle
// class block is released for it when the device is full.
func TestPoolExactBlocksTakeTheirSize(t *testing.T) {
	dev := &fakeDevice{capacity: 10000, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	const n = 3000 // its class would be 3072
	w, err := p.getExact(n)
	if err != nil {
		t.Fatal(err)
	}
	if dev.used != n || p.held != n || p.inUse != n {
		t.Fatalf("device %d, held %d, in use %d bytes; want %d each", dev.used, p.held, p.inUse, n)
	}
	a, ca, _ := p.get(6000) // class 6144: 9144 of 10000 used
	p.put(a, ca)
	if _, err := p.getExact(5000); err != nil {
		t.Fatalf("idle class block not released for a weight: %v", err)
	}
	if err := p.freeExact(w, n); err != nil {
		t.Fatal(err)
	}
	if _, live := dev.live[w]; live {
		t.Error("a freed weight block stayed allocated on the device")
	}
	if p.held != int64(dev.used) || p.inUse != 5000 {
		t.Errorf("held %d (device %d), in use %d; want the device's, and 5000 in use", p.held, dev.used, p.inUse)
	}
}

// Trimming (Backend.Trim) releases the idle blocks only: the blocks still
// handed out and the exact weight blocks stay allocated on the device, and
// the stats drop by exactly the idle bytes.
func TestPoolTrimReleasesOnlyIdleBlocks(t *testing.T) {
	dev := &fakeDevice{capacity: 1 << 30, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	w, _ := p.getExact(3000) // a weight
	a, ca, _ := p.get(1000)
	b, cb, _ := p.get(5000) // stays in use
	c, cc, _ := p.get(70000)
	p.put(a, ca)
	p.put(c, cc)
	before := p.stats()
	freed, err := p.releaseIdle()
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(ca + cc); freed != want {
		t.Errorf("released %d bytes, want the idle %d", freed, want)
	}
	for _, idle := range []devicePtr{a, c} {
		if _, live := dev.live[idle]; live {
			t.Errorf("idle block %#x still allocated on the device", uint64(idle))
		}
	}
	for _, used := range []devicePtr{w, b} {
		if _, live := dev.live[used]; !live {
			t.Errorf("block %#x in use was freed", uint64(used))
		}
	}
	after := p.stats()
	if after.HeldBytes != before.HeldBytes-freed || after.HeldBytes != int64(dev.used) {
		t.Errorf("held %d after releasing %d of %d (device %d)", after.HeldBytes, freed, before.HeldBytes, dev.used)
	}
	if after.InUseBytes != before.InUseBytes || after.InUseBytes != int64(3000+cb) {
		t.Errorf("in use changed from %d to %d", before.InUseBytes, after.InUseBytes)
	}
	if after.PeakHeldBytes != before.PeakHeldBytes {
		t.Errorf("peak held changed from %d to %d", before.PeakHeldBytes, after.PeakHeldBytes)
	}
	// Nothing idle is left: a second trim releases nothing, and the next
	// request of a released class goes to the driver again.
	if again, err := p.releaseIdle(); again != 0 || err != nil {
		t.Errorf("second trim released %d bytes (%v)", again, err)
	}
	allocs := p.allocs
	if _, _, err := p.get(1000); err != nil || p.allocs != allocs+1 {
		t.Errorf("request after trim: %d driver allocations (was %d), %v", p.allocs, allocs, err)
	}
	// The block in use goes back to the pool and is reused as before.
	p.put(b, cb)
	if got, _, _ := p.get(5000); got != b {
		t.Error("a block put back after a trim was not reused")
	}
}

// The driver refusing a request counts as a retry; failing even after the
// idle blocks went back counts as an out-of-memory.
func TestPoolCountsRetriesAndOutOfMemory(t *testing.T) {
	dev := &fakeDevice{capacity: 4096, live: map[devicePtr]int{}}
	p := newPool(dev.alloc, dev.free)
	a, ca, _ := p.get(3000)
	p.put(a, ca)
	p.get(4000) // refused, then served after releasing a
	p.get(4000) // refused twice
	if s := p.stats(); s.AllocRetries != 2 || s.OOMs != 1 {
		t.Errorf("retries %d, OOMs %d; want 2 and 1", s.AllocRetries, s.OOMs)
	}
}
