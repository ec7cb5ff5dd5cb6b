//go:build cuda

package kernels

import (
	"fmt"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// BenchmarkStreamK compares, at the two shapes stream-K exists for (the 32²
// level's attention output / projection, and its 640→1280 skip conv as the
// GEMM it is), what the planner runs ("planned": stream-K on 132 SMs),
// gemm.cu's unsplit tiles, split-K, and stream-K forced on one and two
// blocks per SM. On a GPU lease: go test -tags cuda -run '^$' -bench StreamK ./kernels
func BenchmarkStreamK(b *testing.B) {
	be := newTestBackend(b, "fast")
	sms := be.info.multiprocessors
	for _, s := range []struct{ m, k, n int }{{2 * 1024, 1280, 1280}, {2 * 1024, 640, 1280}} {
		x, w, bias := randomF16(be, 1, s.m, s.k), randomF16(be, 0.03, s.n, s.k), randomF16(be, 0.1, s.n)
		res, y := randomF16(be, 1, s.m, s.n), be.Alloc(tensor.F16, s.m, s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		run := func(name string, op func() bool) {
			b.Run(fmt.Sprintf("M%d_K%d_N%d/%s", s.m, s.k, s.n, name), func(b *testing.B) {
				timeOp(b, be, flops, 0, func() {
					if !op() {
						b.Fatal("declined")
					}
				})
			})
		}
		run("planned", func() bool { return be.tryGemm(y, x, w, bias, res, ActNone) })
		for _, c := range []tileChoice{{tile: blockTiles[0], splits: 1}, {tile: blockTiles[1], splits: 1},
			{tile: blockTiles[2], splits: 1}, {tile: blockTiles[1], splits: 2}} {
			run("tiles-"+c.String(), func() bool {
				return be.withTiles(c, func() bool { return be.tryGemm(y, x, w, bias, res, ActNone) })
			})
		}
		for _, t := range blockTiles[:2] {
			fit := sms * be.residentBlocks(Kernel{"streamk", streamkKernelName(t, "f16")}, t.sharedBytes())
			for _, blocks := range []int{sms, 2 * sms} {
				if blocks > fit {
					continue // the handshake needs every block resident
				}
				run(fmt.Sprintf("streamk-%v-%dblocks", t, blocks), func() bool {
					return be.withStreamK(streamkForce{t, blocks}, func() bool { return be.tryStreamK(y, x, w, bias, res, ActNone) })
				})
			}
		}
	}
}
