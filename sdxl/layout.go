package sdxl

// The networks run channels-last (NHWC); the pipeline, the samplers and
// diffusers hold latents and images as NCHW. These convert at the edges.

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
