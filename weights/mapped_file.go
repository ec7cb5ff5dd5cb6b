package weights

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gosdxl/gosdxl/tensor"
)

// mappedFile is one safetensors file mapped read-only into memory. Its
// tensors' data slices alias the mapping: nothing is copied, and pages are
// read from disk only when a tensor is used.
type mappedFile struct {
	path    string
	data    []byte
	tensors map[string]storedTensor
	order   []string // tensor names in data order
	stats   Stats
	meta    map[string]string // the header's __metadata__ (nil when absent)
}

// storedTensor is a tensor as the file stores it.
type storedTensor struct {
	dtype tensor.DType
	shape tensor.Shape
	data  []byte
}

// openMapped maps path and validates its header. Tensors of a type gosdxl
// cannot hold (F64, U8, ...) are an error unless they are known training
// leftovers (Ignorable), which are left out.
func openMapped(path string) (*mappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, expected a .safetensors file", path)
	}
	if info.Size() == 0 {
		return nil, fmt.Errorf("%s: the file is empty (0 bytes)", path)
	}
	if info.Size() > math.MaxInt {
		return nil, fmt.Errorf("%s: the file is too large to map (%d bytes)", path, info.Size())
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot map the file: %v", path, err)
	}
	mf, err := newMappedFile(path, data)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	return mf, nil
}

// newMappedFile indexes the tensors of a whole file already in memory.
func newMappedFile(path string, data []byte) (*mappedFile, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	mf := &mappedFile{path: path, data: data, tensors: map[string]storedTensor{}, stats: Stats{DTypes: map[string]int{}}, meta: h.metadata}
	for _, t := range h.tensors {
		mf.stats.Tensors++
		mf.stats.Bytes += int64(t.end - t.begin)
		mf.stats.DTypes[t.dtype.String()]++
		dt, err := tensor.ParseDType(t.dtype.String())
		if err != nil {
			if Ignorable(t.name) {
				continue
			}
			return nil, fmt.Errorf("%s: tensor %q has dtype %s, which gosdxl does not read (weights must be F32, F16 or BF16)", path, t.name, t.dtype)
		}
		start := h.dataStart + t.begin
		mf.tensors[t.name] = storedTensor{
			dtype: dt,
			shape: tensor.Shape(t.shape),
			data:  data[start : h.dataStart+t.end : h.dataStart+t.end],
		}
		mf.order = append(mf.order, t.name)
	}
	return mf, nil
}

func (mf *mappedFile) close() error {
	if mf.data == nil {
		return nil
	}
	err := unix.Munmap(mf.data)
	mf.data = nil
	return err
}
