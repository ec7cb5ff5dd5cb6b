package weights

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// u16s encodes values as little-endian 2-byte elements (an F16 tensor's
// bytes, with each element's bits naming its source index).
func u16s(v ...int) []byte {
	out := make([]byte, 0, 2*len(v))
	for _, x := range v {
		out = binary.LittleEndian.AppendUint16(out, uint16(x))
	}
	return out
}

func TestChannelsLastMovesInputChannelsLast(t *testing.T) {
	// [O=2, I=3, KH=1, KW=2]: element value = its index in the stored order.
	const o, in, kh, kw = 2, 3, 1, 2
	raw := make([]int, o*in*kh*kw)
	for i := range raw {
		raw[i] = i
	}
	shape, got, err := channelsLast.apply(tensor.Shape{o, in, kh, kw}, u16s(raw...), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !shape.Equal(tensor.Shape{o, kh, kw, in}) {
		t.Fatalf("shape %v", shape)
	}
	var want []int
	for oc := 0; oc < o; oc++ {
		for y := 0; y < kh; y++ {
			for x := 0; x < kw; x++ {
				for ic := 0; ic < in; ic++ {
					want = append(want, ((oc*in+ic)*kh+y)*kw+x)
				}
			}
		}
	}
	if string(got) != string(u16s(want...)) {
		t.Fatalf("bytes %v, want %v", got, u16s(want...))
	}
}

func TestLayoutsKeepStoredBytes(t *testing.T) {
	raw := u16s(1, 2, 3, 4, 5, 6)
	shape, got, err := channelsLast.apply(tensor.Shape{2, 3, 1, 1}, raw, 2)
	if err != nil || !shape.Equal(tensor.Shape{2, 1, 1, 3}) || &got[0] != &raw[0] {
		t.Errorf("1x1 kernel: shape %v, err %v, aliased %v; want the stored bytes as [2 1 1 3]", shape, err, &got[0] == &raw[0])
	}
	shape, got, err = transposed.apply(tensor.Shape{2, 3}, raw, 2)
	if err != nil || !shape.Equal(tensor.Shape{3, 2}) || string(got) != string(u16s(1, 4, 2, 5, 3, 6)) {
		t.Errorf("transpose: shape %v, bytes %v, err %v", shape, got, err)
	}
	if string(raw) != string(u16s(1, 2, 3, 4, 5, 6)) {
		t.Error("the stored bytes were modified")
	}
	if _, _, err := channelsLast.apply(tensor.Shape{6}, raw, 2); err == nil || !strings.Contains(err.Error(), "4-D") {
		t.Errorf("1-D conv weight: err %v", err)
	}
	if _, _, err := transposed.apply(tensor.Shape{6}, raw, 2); err == nil || !strings.Contains(err.Error(), "2-D") {
		t.Errorf("1-D transpose: err %v", err)
	}
}
