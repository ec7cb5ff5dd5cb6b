package sdxl

import (
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/gosdxl/gosdxl/weights"
)

// sdxlVAEConfig is the full-size SDXL VAE (AutoencoderKL, 83.7 M parameters).
var sdxlVAEConfig = weights.VAEConfig{Channels: []int{128, 256, 512, 512}, LatentChannels: 4}

// BenchmarkVAETiledDecode2048FullSize decodes a 2048×2048 image (a
// 256×256 latent) in tiles with the full-size VAE architecture and random
// F16 weights on the CPU, and reports the process's peak resident memory;
// it fails above 4 GB. Opt-in: GOSDXL_FULLSIZE=1 (about 10 minutes on two
// idle cores; measured 2472 MiB peak with 512 px tiles). GOSDXL_VAE_TILE
// sets the tile size (default 512: what --vae-tiling auto picks under a
// 2 GiB budget); run it alone, as the peak is the whole process's.
func BenchmarkVAETiledDecode2048FullSize(bm *testing.B) {
	if os.Getenv("GOSDXL_FULLSIZE") != "1" {
		bm.Skip("set GOSDXL_FULLSIZE=1 to decode 2048×2048 with the full-size VAE")
	}
	tile := 512
	if v := os.Getenv("GOSDXL_VAE_TILE"); v != "" {
		tile, _ = strconv.Atoi(v)
	}
	b := newTestCPU(bm)
	v := NewVAE(sdxlVAEConfig)
	bindPart(bm, b, newRandomSource(bm, weights.VAEPrefix), weights.VAEPrefix, v)
	m := &Model{backend: b, vae: v, cfg: weights.Config{VAE: sdxlVAEConfig}, Precision: DefaultPrecision(b)}
	s := latentShape{b: 1, c: 4, h: 256, w: 256}
	z := make([]float32, s.size())
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	bm.ResetTimer()
	for bm.Loop() {
		img, err := m.decodeTiled(z, s, tile)
		if err != nil {
			bm.Fatal(err)
		}
		if len(img) != 3*2048*2048 {
			bm.Fatalf("%d values, want 3×2048×2048", len(img))
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		bm.Fatal(err)
	}
	peak := float64(ru.Maxrss) / 1024 // KiB → MiB
	bm.ReportMetric(peak, "peak-RSS-MiB")
	bm.Logf("tile %d px: peak RSS %.0f MiB (estimate for one tile %s)", tile, peak, formatBytes(m.vaeDecodeBytes(tile, tile)))
	if peak > 4000 {
		bm.Errorf("peak RSS %.0f MiB, want under 4 GB", peak)
	}
}
