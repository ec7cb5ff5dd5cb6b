package loratest

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"sort"
)

// WriteSparseCheckpoint writes the full-size checkpoint a reference
// manifest (testdata/reference/manifest-sdxl-sgm.json) describes: its real
// header, and zero data as a hole, so the 6.9 GB file takes a few hundred
// KB of disk and reads as zeros.
func WriteSparseCheckpoint(manifest, path string) error {
	raw, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	var m struct {
		Files map[string]struct {
			Tensors map[string]struct {
				DType string `json:"dtype"`
				Shape []int  `json:"shape"`
			} `json:"tensors"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]entry{}
	var off int64
	for _, f := range m.Files {
		names := make([]string, 0, len(f.Tensors))
		for n := range f.Tensors {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t := f.Tensors[n]
			size := int64(2)
			switch t.DType {
			case "F32", "I32":
				size = 4
			case "I64", "F64":
				size = 8
			}
			for _, d := range t.Shape {
				size *= int64(d)
			}
			header[n] = entry{t.DType, t.Shape, [2]int64{off, off + size}}
			off += size
		}
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	if _, err := out.Write(append(n[:], js...)); err != nil {
		out.Close()
		return err
	}
	if err := out.Truncate(int64(8+len(js)) + off); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
