package kernels

// devicePtr is a CUDA device address (CUdeviceptr).
type devicePtr uint64

// Dim3 is a CUDA grid or block size; zero components count as 1.
type Dim3 struct{ X, Y, Z int }

// D1 and D2 build one- and two-dimensional sizes.
func D1(x int) Dim3    { return Dim3{x, 1, 1} }
func D2(x, y int) Dim3 { return Dim3{x, y, 1} }

func (d Dim3) norm() Dim3 {
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	return d
}

// ceilDiv is the number of blocks of size b needed to cover n items.
func ceilDiv(n, b int) int { return (n + b - 1) / b }
