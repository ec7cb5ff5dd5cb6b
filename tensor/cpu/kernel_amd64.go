//go:build amd64

package cpu

func microKernel(kcs int, a, b, c []float32, ldc int) { microKernelGo(kcs, a, b, c, ldc) }
