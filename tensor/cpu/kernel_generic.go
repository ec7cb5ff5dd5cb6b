package cpu

// Register tile of the micro-kernel: mr rows of A by nr columns of B. The
// AVX2 kernel holds the 6×16 tile in 12 ymm registers.
const (
	mr = 6
	nr = 16
)

// microKernelGo computes c[r*ldc+j] += Σ_k a[k*mr+r]·b[k*nr+j] for the
// full mr×nr tile. It is the portable fallback of the assembly kernel.
func microKernelGo(kcs int, a, b, c []float32, ldc int) {
	var acc [mr][nr]float32
	a = a[:kcs*mr]
	b = b[:kcs*nr]
	for k := range kcs {
		bk := (*[nr]float32)(b[k*nr:])
		ak := (*[mr]float32)(a[k*mr:])
		for r := range mr {
			ar := ak[r]
			row := &acc[r]
			for j := range nr {
				row[j] += ar * bk[j]
			}
		}
	}
	for r := range mr {
		dst := c[r*ldc : r*ldc+nr]
		for j := range dst {
			dst[j] += acc[r][j]
		}
	}
}
