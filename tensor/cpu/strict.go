package cpu

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"
	"weak"

	"github.com/gosdxl/gosdxl/tensor"
)

// Strict mode makes the CPU backend as unforgiving as a GPU, so that the
// CPU goldens catch the bugs that would otherwise corrupt only GPU runs:
//
//   - Alloc hands out memory full of NaN (the interface promises
//     uninitialised memory; a GPU pool hands back whatever was there), so
//     a read before the first write poisons the result.
//   - Free of a view (Reshape), a second Free, and any operation that reads
//     or writes a freed tensor panic, naming where the tensor was allocated
//     and freed. (On a GPU the first two release a buffer still in use and
//     the third reads a buffer the pool may have handed to someone else.)
//   - LiveSince lists every allocation not yet freed with its site: a model test
//     ends by requiring it empty (a leak on a GPU is device memory lost).
//
// Strict mode never reuses memory (a stale handle could not be told from
// its successor), but the pool keeps the same books as in fast mode, so
// Counters report the same pool hits and misses in both modes.

// Mode selects how much the backend checks its callers.
type Mode uint8

const (
	// Fast pools freed storage, zero-fills allocations and ignores misuse
	// of Free: the mode for generating images.
	Fast Mode = iota
	// Strict fills allocations with NaN and panics on lifetime errors.
	Strict
)

// StrictEnv names the environment variable that selects the mode of New:
// "1" for Strict, "0" for Fast. Unset, test binaries (go test) run Strict
// and everything else Fast.
const StrictEnv = "GOSDXL_CPU_STRICT"

// DefaultMode is the mode New uses (see StrictEnv).
func DefaultMode() Mode {
	switch os.Getenv(StrictEnv) {
	case "1":
		return Strict
	case "0":
		return Fast
	}
	if testing.Testing() {
		return Strict
	}
	return Fast
}

// Allocation is a live tensor of a strict backend.
type Allocation struct {
	Seq   uint64 // order of allocation, from 1 (see Backend.Mark)
	DType tensor.DType
	Shape tensor.Shape
	Site  string // the call stack outside tensor/cpu that allocated it
}

func (a Allocation) String() string {
	return fmt.Sprintf("%v%v allocated at\n%s", a.DType, a.Shape, a.Site)
}

// allocation is the tracker's record of one tensor handed out.
type allocation struct {
	Allocation
	owner   weak.Pointer[tensor.Tensor] // the tensor Alloc returned (not a view)
	pcs     []uintptr                   // allocation stack, formatted on demand
	freePCs []uintptr                   // set once freed
}

// tracker is a strict backend's record of its allocations, keyed by the
// address of the first element. Views share their tensor's address, so an
// operation on a view of a freed tensor is caught too. Several records may
// share an address only when FromRaw wraps the same bytes twice.
type tracker struct {
	mu   sync.Mutex
	seq  uint64
	recs map[uintptr][]*allocation
	// collected are allocations never freed whose memory the garbage
	// collector reclaimed (its address came back from a fresh allocation):
	// still leaks.
	collected []*allocation
}

func newTracker() *tracker { return &tracker{recs: map[uintptr][]*allocation{}} }

// storageAddr is the address of t's first element, 0 for empty storage.
func storageAddr(t *tensor.Tensor) uintptr {
	switch s := t.Storage().(type) {
	case []float32:
		return uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	case []uint16:
		return uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	case []int32:
		return uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	case []int64:
		return uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	}
	return 0
}

// callers captures the stack of the backend method's caller.
func callers() []uintptr {
	pcs := make([]uintptr, 24)
	return pcs[:runtime.Callers(3, pcs)]
}

// formatSite lists the frames outside this package (and the runtime), the
// innermost first: where the caller's code made or freed the tensor.
func formatSite(pcs []uintptr) string {
	if len(pcs) == 0 {
		return "\t(unknown)"
	}
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	shown := 0
	for {
		f, more := frames.Next()
		inBackend := strings.Contains(f.File, "/tensor/cpu/") && !strings.HasSuffix(f.File, "_test.go")
		if !inBackend && !strings.HasPrefix(f.Function, "runtime.") && shown < 8 {
			fmt.Fprintf(&b, "\t%s\n\t\t%s:%d\n", f.Function, f.File, f.Line)
			shown++
		}
		if !more {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// add registers t, which Alloc made, or FromRaw made aliasing the
// caller's memory (mapped).
func (tr *tracker) add(t *tensor.Tensor, mapped bool) {
	addr := storageAddr(t)
	if addr == 0 {
		return // empty tensors hold no memory
	}
	rec := &allocation{owner: weak.Make(t), pcs: callers()}
	rec.DType, rec.Shape = t.DType(), t.Shape()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seq++
	rec.Seq = tr.seq
	old := tr.recs[addr]
	if !mapped {
		// Fresh Go memory at a known address: the earlier storage there
		// was collected, so nothing can still reach it. Records of it that
		// were never freed are leaks.
		for _, r := range old {
			if r.freePCs == nil {
				tr.collected = append(tr.collected, r)
			}
		}
		old = nil
	}
	tr.recs[addr] = append(old, rec)
}

// free marks t freed, panicking on a view, a second free or a foreign
// tensor.
func (tr *tracker) free(t *tensor.Tensor) {
	addr := storageAddr(t)
	if addr == 0 {
		return
	}
	w := weak.Make(t)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	recs := tr.recs[addr]
	for _, r := range recs {
		if r.owner != w {
			continue
		}
		if r.freePCs != nil {
			panic(fmt.Sprintf("cpu: double free of %v\nallocated at\n%s\nfirst freed at\n%s",
				t, formatSite(r.pcs), formatSite(r.freePCs)))
		}
		r.freePCs = callers()
		return
	}
	if len(recs) > 0 {
		r := recs[len(recs)-1]
		state := "still live"
		if r.freePCs != nil {
			state = "already freed at\n" + formatSite(r.freePCs)
		}
		panic(fmt.Sprintf("cpu: Free of a view %v of the %v%v allocated at\n%s\n(%s); free the tensor Alloc returned",
			t, r.DType, r.Shape, formatSite(r.pcs), state))
	}
	panic(fmt.Sprintf("cpu: Free of %v, which this backend did not allocate", t))
}

// check panics when t (or the tensor it views) was freed.
func (tr *tracker) check(op string, t *tensor.Tensor) {
	addr := storageAddr(t)
	if addr == 0 {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	recs := tr.recs[addr]
	if len(recs) == 0 {
		return // memory this backend does not track (another backend's tensor)
	}
	for _, r := range recs {
		if r.freePCs == nil {
			return
		}
	}
	r := recs[len(recs)-1]
	panic(fmt.Sprintf("cpu: %s uses %v after it was freed\nallocated at\n%s\nfreed at\n%s",
		op, t, formatSite(r.pcs), formatSite(r.freePCs)))
}

// live lists the allocations after seq mark that were never freed, oldest
// first.
func (tr *tracker) live(mark uint64) []Allocation {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var recs []*allocation
	for _, rs := range tr.recs {
		for _, r := range rs {
			if r.freePCs == nil && r.Seq > mark {
				recs = append(recs, r)
			}
		}
	}
	for _, r := range tr.collected {
		if r.Seq > mark {
			recs = append(recs, r)
		}
	}
	out := make([]Allocation, len(recs))
	for i, r := range recs {
		out[i] = r.Allocation
		out[i].Site = formatSite(r.pcs)
	}
	sortAllocations(out)
	return out
}

func sortAllocations(as []Allocation) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].Seq < as[j-1].Seq; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

// poisonTensor fills t's storage with values that make any use visible:
// NaN of t's dtype for floats (it propagates through all arithmetic), and
// for integers (token ids) a value no table has a row for.
func poisonTensor(t *tensor.Tensor) {
	switch s := t.Storage().(type) {
	case []float32:
		fillRepeat(s, float32(math.NaN()))
	case []uint16:
		nan := uint16(0x7E00) // float16 quiet NaN
		if t.DType() == tensor.BF16 {
			nan = 0x7FC0
		}
		fillRepeat(s, nan)
	case []int32:
		fillRepeat(s, math.MinInt32)
	case []int64:
		fillRepeat(s, math.MinInt64)
	}
}

// fillRepeat sets every element of s to v, by doubling copies (memmove
// speed: strict mode fills every allocation).
func fillRepeat[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for n := 1; n < len(s); n *= 2 {
		copy(s[n:], s[:n])
	}
}
