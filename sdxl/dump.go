package sdxl

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
)

// Float32Tensor is a host tensor for debugging dumps: row-major data of the
// given shape.
type Float32Tensor struct {
	Shape []int
	Data  []float32
}

// WriteSafetensors writes tensors as an F32 safetensors file (names sorted,
// so the file is reproducible), readable by safetensors.torch.load_file for
// side-by-side comparisons with diffusers. Image-like tensors should be
// converted to NCHW first (NHWCToNCHW), the layout of the reference data.
func WriteSafetensors(path string, tensors map[string]Float32Tensor) error {
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
				return fmt.Errorf("sdxl: dump %s: tensor %q has an impossible shape %v", path, n, t.Shape)
			}
			size *= d
		}
		if size != len(t.Data) {
			return fmt.Errorf("sdxl: dump %s: tensor %q has shape %v but %d values", path, n, t.Shape, len(t.Data))
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
		return fmt.Errorf("sdxl: dump %s: %v", path, err)
	}
	for len(hb)%8 != 0 { // the format pads the header with spaces to 8 bytes
		hb = append(hb, ' ')
	}

	// A temporary file renamed when complete: an interrupted or failed
	// dump leaves no half file, and an earlier dump stays whole.
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("sdxl: dump: %v", err)
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
		return fmt.Errorf("sdxl: dump %s: %v", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("sdxl: dump %s: %v", path, err)
	}
	return nil
}

// NHWCToNCHW reorders a channels-last [n,h,w,c] tensor to [n,c,h,w].
func NHWCToNCHW(src []float32, n, h, w, c int) []float32 {
	dst := make([]float32, len(src))
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < c; ch++ {
					dst[((b*c+ch)*h+y)*w+x] = src[((b*h+y)*w+x)*c+ch]
				}
			}
		}
	}
	return dst
}

// NCHWToNHWC reorders an [n,c,h,w] tensor to channels-last [n,h,w,c].
func NCHWToNHWC(src []float32, n, c, h, w int) []float32 {
	dst := make([]float32, len(src))
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					dst[((b*h+y)*w+x)*c+ch] = src[((b*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return dst
}
