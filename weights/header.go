package weights

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/nlpodyssey/safetensors"
)

// headerTensor is one tensor as a safetensors header declares it. Offsets
// are relative to the start of the data section (after the header).
type headerTensor struct {
	name       string
	dtype      safetensors.DType
	shape      []int
	begin, end uint64
}

// parsedHeader is a validated safetensors header of a complete file.
type parsedHeader struct {
	metadata  map[string]string
	tensors   []headerTensor // sorted by data offset
	dataStart uint64         // file offset of the data section
}

// maxDim bounds a single dimension: shapes become Go ints and products of
// them, and no SDXL tensor comes near it.
const maxDim = math.MaxInt32

// parseHeader reads and validates the header of a whole safetensors file
// held in data (the memory-mapped file). The nlpodyssey/safetensors parser
// decides validity; when it refuses, explainHeader finds the precise reason
// so that the error names the tensor and the problem. Errors do not name the
// file: the caller adds the path.
func parseHeader(data []byte) (*parsedHeader, error) {
	size := uint64(len(data))
	if size == 0 {
		return nil, fmt.Errorf("the file is empty (0 bytes)")
	}
	if size < 8 {
		return nil, fmt.Errorf("the file is %d bytes long, too short for a safetensors header", size)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n == 0 {
		return nil, fmt.Errorf("the header length is 0: not a safetensors file")
	}
	if n > size-8 {
		return nil, fmt.Errorf("the header length %d goes beyond the end of the file (%d bytes): not a safetensors file, or a truncated one", n, size)
	}
	_, md, err := safetensors.ReadMetadata(data)
	if err != nil {
		if reason := explainHeader(data[8:8+n], size-8-n); reason != nil {
			return nil, reason
		}
		return nil, fmt.Errorf("invalid safetensors header: %v", err)
	}
	h := &parsedHeader{metadata: md.Metadata(), dataStart: 8 + n}
	for name, info := range md.Tensors() {
		t := headerTensor{name: name, dtype: info.DType, begin: info.DataOffsets[0], end: info.DataOffsets[1]}
		for _, d := range info.Shape {
			if d > maxDim {
				return nil, fmt.Errorf("tensor %q: dimension %d is too large", name, d)
			}
			t.shape = append(t.shape, int(d))
		}
		h.tensors = append(h.tensors, t)
	}
	sortByOffset(h.tensors)
	return h, nil
}

func sortByOffset(ts []headerTensor) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].begin != ts[j].begin {
			return ts[i].begin < ts[j].begin
		}
		if ts[i].end != ts[j].end {
			return ts[i].end < ts[j].end
		}
		return ts[i].name < ts[j].name
	})
}

// explainHeader re-examines a header the library refused and returns a
// precise reason, or nil when it finds none. dataLen is the size of the data
// section that follows the header.
func explainHeader(header []byte, dataLen uint64) error {
	var syntax any
	if err := json.Unmarshal(header, &syntax); err != nil {
		return fmt.Errorf("the header is not valid JSON: %v", err)
	}
	if _, ok := syntax.(map[string]any); !ok {
		return fmt.Errorf("the header is JSON but not an object")
	}
	var md safetensors.Metadata
	if err := json.Unmarshal(header, &md); err != nil {
		return fmt.Errorf("invalid safetensors header: %v", err)
	}
	var ts []headerTensor
	for name, info := range md.Tensors() {
		ts = append(ts, headerTensor{name: name, dtype: info.DType, begin: info.DataOffsets[0], end: info.DataOffsets[1]})
		if err := checkTensorSize(name, info); err != nil {
			return err
		}
	}
	sortByOffset(ts)
	var prevEnd uint64
	prevName := ""
	for _, t := range ts {
		switch {
		case t.end > dataLen:
			return fmt.Errorf("tensor %q: data offsets [%d, %d] go beyond the %d bytes of tensor data in the file", t.name, t.begin, t.end, dataLen)
		case t.begin < prevEnd:
			return fmt.Errorf("tensors %q and %q overlap: %q ends at byte %d, %q starts at byte %d", prevName, t.name, prevName, prevEnd, t.name, t.begin)
		case t.begin > prevEnd:
			return fmt.Errorf("%d unused bytes of data before tensor %q (offsets must be contiguous)", t.begin-prevEnd, t.name)
		}
		prevEnd, prevName = t.end, t.name
	}
	if prevEnd != dataLen {
		return fmt.Errorf("the file has %d bytes of data after the last tensor (truncated header or corrupt file)", dataLen-prevEnd)
	}
	return nil
}

// checkTensorSize verifies that a tensor's offsets hold exactly dtype × shape.
func checkTensorSize(name string, info *safetensors.TensorInfo) error {
	begin, end := info.DataOffsets[0], info.DataOffsets[1]
	if end < begin {
		return fmt.Errorf("tensor %q: data offsets [%d, %d] end before they begin", name, begin, end)
	}
	elements := uint64(1)
	for _, d := range info.Shape {
		if d != 0 && elements > math.MaxUint64/d {
			return fmt.Errorf("tensor %q: shape %v is too large", name, info.Shape)
		}
		elements *= d
	}
	size := info.DType.Size()
	if elements > math.MaxUint64/size || elements*size != end-begin {
		return fmt.Errorf("tensor %q: dtype %s with shape %v needs %d bytes, but its data offsets [%d, %d] hold %d", name, info.DType, info.Shape, elements*size, begin, end, end-begin)
	}
	return nil
}
