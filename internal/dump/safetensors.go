package dump

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
)

// Tensor is a host tensor for debugging dumps: row-major data of the given
// shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// WriteSafetensors writes tensors as an F32 safetensors file (names sorted,
// so the file is reproducible), readable by safetensors.torch.load_file for
// side-by-side comparisons with diffusers. Image-like tensors should be in
// NCHW, the layout of the reference data.
func WriteSafetensors(path string, tensors map[string]Tensor) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)

	type entry struct {
		DType       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{}
	offset := 0
	for _, n := range names {
		t := tensors[n]
		size := 1
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && size > math.MaxInt/4/d) {
				return fmt.Errorf("dump %s: tensor %q has an impossible shape %v", path, n, t.Shape)
			}
			size *= d
		}
		if size != len(t.Data) {
			return fmt.Errorf("dump %s: tensor %q has shape %v but %d values", path, n, t.Shape, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[n] = entry{DType: "F32", Shape: shape, DataOffsets: [2]int{offset, offset + 4*size}}
		offset += 4 * size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("dump %s: %v", path, err)
	}
	for len(hb)%8 != 0 { // the format pads the header with spaces to 8 bytes
		hb = append(hb, ' ')
	}

	// A temporary file renamed when complete: an interrupted or failed
	// dump leaves no half file, and an earlier dump stays whole.
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("dump: %v", err)
	}
	w := bufio.NewWriter(f)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	w.Write(lenBuf[:])
	w.Write(hb)
	var buf [4]byte
	for _, n := range names {
		for _, v := range tensors[n].Data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			w.Write(buf[:])
		}
	}
	if err := w.Flush(); err != nil {
		f.Abort()
		return fmt.Errorf("dump %s: %v", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("dump %s: %v", path, err)
	}
	return nil
}
