package sdxl

import (
	"fmt"
	"testing"
)

func TestLayoutConversionsInvert(t *testing.T) {
	const n, c, h, w = 2, 3, 4, 5
	src := make([]float32, n*c*h*w)
	for i := range src {
		src[i] = float32(i)
	}
	nhwc := NCHWToNHWC(src, n, c, h, w)
	// Element (b=1, c=2, y=3, x=4) of NCHW sits at channels-last index ((1·4+3)·5+4)·3+2.
	if got, want := nhwc[((1*h+3)*w+4)*c+2], src[((1*c+2)*h+3)*w+4]; got != want {
		t.Fatalf("NCHWToNHWC moved the element to %v, want %v", got, want)
	}
	back := NHWCToNCHW(nhwc, n, h, w, c)
	if fmt.Sprint(back) != fmt.Sprint(src) {
		t.Fatal("NHWCToNCHW does not invert NCHWToNHWC")
	}
}
