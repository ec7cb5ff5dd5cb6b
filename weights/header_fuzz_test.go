package weights

import (
	"testing"
)

// FuzzParseHeader feeds arbitrary files to the header parser: it must never
// panic, and whatever it accepts must describe tensors that lie inside the
// file, hold exactly dtype × shape bytes and follow each other without gaps.
func FuzzParseHeader(f *testing.F) {
	f.Add(rawSafetensors(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}`, 16))
	f.Add(rawSafetensors(`{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4))
	f.Add(rawSafetensors(`{"w":{"dtype":"BF16","shape":[0,3],"data_offsets":[0,0]}}  `, 0))
	f.Add(rawSafetensors(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}}`, 12))
	f.Add(rawSafetensors(`{}`, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeader(data)
		if err != nil {
			return
		}
		next := h.dataStart
		for _, tn := range h.tensors {
			begin, end := h.dataStart+tn.begin, h.dataStart+tn.end
			if begin != next || end < begin || end > uint64(len(data)) {
				t.Fatalf("tensor %q at [%d, %d) accepted in a %d-byte file (expected start %d)", tn.name, begin, end, len(data), next)
			}
			elements := uint64(1)
			for _, d := range tn.shape {
				if d < 0 {
					t.Fatalf("tensor %q: negative dimension %d accepted", tn.name, d)
				}
				elements *= uint64(d)
			}
			if elements*tn.dtype.Size() != end-begin {
				t.Fatalf("tensor %q: %d elements of %s in %d bytes accepted", tn.name, elements, tn.dtype, end-begin)
			}
			next = end
		}
		if next != uint64(len(data)) {
			t.Fatalf("%d bytes after the last tensor accepted", uint64(len(data))-next)
		}
		if mf, err := newMappedFile("fuzz", data); err == nil && len(mf.tensors) > len(h.tensors) {
			t.Fatalf("more tensors than the header has")
		}
	})
}
