// Package loratest builds adapter files for tests and merges them into a
// checkpoint by an independent float64 computation: its own safetensors
// reader and writer, its own names (written out by hand in the tests) and
// its own products, so that package lora is checked against arithmetic it
// does not share.
package loratest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// Tensor is one stored tensor: dtype "F32", "F16" or "BF16", shape, and
// its values as float64 (each exactly representable in the dtype).
type Tensor struct {
	DType string
	Shape []int
	V     []float64
}

// File is a safetensors file's tensors by name, plus its metadata.
type File struct {
	Tensors  map[string]*Tensor
	Metadata map[string]string
}

// Read parses a safetensors file written with F32/F16/BF16 tensors (other
// dtypes are kept as raw F32 zeros of the right shape: the tests never
// change them, and Write stores them back unchanged through Raw).
func Read(path string) (*File, map[string][]byte, error) {
	return read(path, nil)
}

// ReadTensors is Read of the named tensors alone (and the metadata):
// decoding a whole checkpoint to float64 takes seconds.
func ReadTensors(path string, names ...string) (*File, error) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	f, _, err := read(path, keep)
	return f, err
}

// read decodes the tensors of keep (nil: all).
func read(path string, keep map[string]bool) (*File, map[string][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return nil, nil, err
	}
	f := &File{Tensors: map[string]*Tensor{}}
	raw := map[string][]byte{}
	for name, msg := range header {
		if name == "__metadata__" {
			json.Unmarshal(msg, &f.Metadata)
			continue
		}
		if keep != nil && !keep[name] {
			continue
		}
		var h struct {
			DType   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, nil, err
		}
		b := data[8+int64(n)+h.Offsets[0] : 8+int64(n)+h.Offsets[1]]
		switch h.DType {
		case "F32", "F16", "BF16":
			f.Tensors[name] = &Tensor{DType: h.DType, Shape: h.Shape, V: decode(h.DType, b)}
		default:
			raw[name+"\x00"+h.DType+"\x00"+fmt.Sprint(h.Shape)] = append([]byte(nil), b...)
		}
	}
	return f, raw, nil
}

// Write stores tensors (and raw tensors kept by Read) as a safetensors file.
func Write(path string, f *File, raw map[string][]byte) error {
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	names := make([]string, 0, len(f.Tensors))
	for n := range f.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	var body []byte
	for _, n := range names {
		t := f.Tensors[n]
		b := encode(t.DType, t.V)
		header[n] = entry{t.DType, t.Shape, [2]int64{int64(len(body)), int64(len(body) + len(b))}}
		body = append(body, b...)
	}
	rawNames := make([]string, 0, len(raw))
	for k := range raw {
		rawNames = append(rawNames, k)
	}
	sort.Strings(rawNames)
	for _, k := range rawNames {
		parts := splitNul(k)
		name, dt, shape := parts[0], parts[1], parts[2]
		var dims []int
		json.Unmarshal([]byte(bracketsToJSON(shape)), &dims)
		b := raw[k]
		header[name] = entry{dt, dims, [2]int64{int64(len(body)), int64(len(body) + len(b))}}
		body = append(body, b...)
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out := make([]byte, 8, 8+len(js)+len(body))
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	out = append(append(out, js...), body...)
	return os.WriteFile(path, out, 0o644)
}

func splitNul(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// bracketsToJSON turns fmt's "[1 77]" into "[1,77]".
func bracketsToJSON(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			out = append(out, ',')
		} else {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func decode(dt string, b []byte) []float64 {
	switch dt {
	case "F32":
		v := make([]float64, len(b)/4)
		for i := range v {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return v
	case "BF16":
		v := make([]float64, len(b)/2)
		for i := range v {
			v[i] = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16))
		}
		return v
	}
	v := make([]float64, len(b)/2)
	for i := range v {
		v[i] = f16ToF64(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return v
}

func encode(dt string, v []float64) []byte {
	switch dt {
	case "F32":
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
		}
		return b
	case "BF16":
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], toBF16(x))
		}
		return b
	}
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], toF16(x))
	}
	return b
}

// Round returns x rounded (to nearest even) to dtype dt, as float64.
func Round(dt string, x float64) float64 {
	switch dt {
	case "F32":
		return float64(float32(x))
	case "BF16":
		return float64(math.Float32frombits(uint32(toBF16(x)) << 16))
	}
	return f16ToF64(toF16(x))
}

// f16ToF64 decodes IEEE half precision.
func f16ToF64(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 31:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// toF16 rounds a float64 to the nearest half (ties to even) by searching
// the two neighbours: slow, obviously right, independent of tensor/.
func toF16(x float64) uint16 {
	if math.IsNaN(x) {
		return 0x7e00
	}
	var sign uint16
	if x < 0 || (x == 0 && math.Signbit(x)) {
		sign, x = 0x8000, -x
	}
	if x >= 65520 {
		return sign | 0x7c00
	}
	// Largest half ≤ x by bisection over the ordered bit patterns 0..0x7bff.
	lo, hi := uint16(0), uint16(0x7bff)
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if f16ToF64(mid) <= x {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0x7bff {
		return sign | lo
	}
	a, b := f16ToF64(lo), f16ToF64(lo+1)
	switch {
	case x-a < b-x:
		return sign | lo
	case x-a > b-x:
		return sign | (lo + 1)
	case lo%2 == 0:
		return sign | lo
	}
	return sign | (lo + 1)
}

func toBF16(x float64) uint16 {
	f := float32(x) // exact for values the tests use (already float32)
	bits := math.Float32bits(f)
	round := uint32(0x7fff) + (bits>>16)&1
	return uint16((bits + round) >> 16)
}
