package sdxl

import (
	"math"
	"testing"

	"github.com/gosdxl/gosdxl/tensor"
)

// refTiled64 is diffusers' tiled_decode / tiled_encode loop restated in
// float64 over tiles the network has already produced: tiles start every
// stride input units; each tile, in row-major order, gets the bottom of
// the tile above and then the right side of the tile to its left blended
// into it in place (so later blends see blended neighbours); the top-left
// keep×keep of every tile is concatenated.
func refTiled64(tiles [][]planes, blend, keep int) (out [][][]float64) {
	rows := make([][][][][]float64, len(tiles)) // [i][j][c][y][x]
	for i, row := range tiles {
		rows[i] = make([][][][]float64, len(row))
		for j, t := range row {
			v := make([][][]float64, t.c)
			for c := range v {
				v[c] = make([][]float64, t.h)
				for y := range v[c] {
					v[c][y] = make([]float64, t.w)
					for x := range v[c][y] {
						v[c][y][x] = float64(*t.at(c, y, x))
					}
				}
			}
			rows[i][j] = v
		}
	}
	blendV := func(a, b [][][]float64) {
		e := min(len(a[0]), len(b[0]), blend)
		for y := 0; y < e; y++ {
			for c := range b {
				for x := range b[c][y] {
					b[c][y][x] = a[c][len(a[0])-e+y][x]*(1-float64(y)/float64(e)) + b[c][y][x]*(float64(y)/float64(e))
				}
			}
		}
	}
	blendH := func(a, b [][][]float64) {
		e := min(len(a[0][0]), len(b[0][0]), blend)
		for x := 0; x < e; x++ {
			for c := range b {
				for y := range b[c] {
					b[c][y][x] = a[c][y][len(a[0][0])-e+x]*(1-float64(x)/float64(e)) + b[c][y][x]*(float64(x)/float64(e))
				}
			}
		}
	}
	ch := len(rows[0][0])
	out = make([][][]float64, ch)
	for i, row := range rows {
		var band [][][]float64 // [c][y][x] of this row of tiles
		for j, t := range row {
			if i > 0 {
				blendV(rows[i-1][j], t)
			}
			if j > 0 {
				blendH(row[j-1], t)
			}
			kh, kw := min(keep, len(t[0])), min(keep, len(t[0][0]))
			if band == nil {
				band = make([][][]float64, ch)
				for c := range band {
					band[c] = make([][]float64, kh)
				}
			}
			for c := range t {
				for y := 0; y < kh; y++ {
					band[c][y] = append(band[c][y], t[c][y][:kw]...)
				}
			}
		}
		for c := range out {
			out[c] = append(out[c], band[c]...)
		}
	}
	return out
}

// tilesOf runs net on every tile of in: tile×tile every stride.
func tilesOf(t *testing.T, in planes, tile, stride int, net func(planes) (planes, error)) [][]planes {
	t.Helper()
	var rows [][]planes
	for y := 0; y < in.h; y += stride {
		var row []planes
		for x := 0; x < in.w; x += stride {
			p, err := net(in.crop(y, x, min(tile, in.h-y), min(tile, in.w-x)))
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	return rows
}

func maxDiff64(t *testing.T, got []float32, want [][][]float64) float64 {
	t.Helper()
	var d float64
	i := 0
	for c := range want {
		for y := range want[c] {
			for _, v := range want[c][y] {
				if i >= len(got) {
					t.Fatalf("tiled result has %d values, the reference more", len(got))
				}
				d = math.Max(d, math.Abs(float64(got[i])-v))
				i++
			}
		}
	}
	if i != len(got) {
		t.Fatalf("tiled result has %d values, the reference %d", len(got), i)
	}
	return d
}

// psnrSigned is the PSNR of two images in [-1, 1] (peak-to-peak 2).
func psnrSigned(a, b []float32) float64 {
	var se float64
	for i := range a {
		d := float64(min(max(a[i], -1), 1) - min(max(b[i], -1), 1))
		se += d * d
	}
	return 10 * math.Log10(4/(se/float64(len(a))))
}

// Tile sizes for the tiny model's 128×192 images: 64 px tiles (8-latent)
// overlap by 16 px and cut each image into 3×4 tiles; 32 px into 6×8.
var testTileSizes = []int{64, 32}

func TestVAETiledDecodeMatchesDiffusersTiling(t *testing.T) {
	m, _, _ := pipeFixture(t)
	z := golden(t, "vae/decode/latents") // [1,4,16,24], pipeline latents
	s := latentShape{b: 1, c: 4, h: z.shape[2], w: z.shape[3]}
	untiled, err := m.decodeOne(z.data, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range testTileSizes {
		got, err := m.decodeTiled(z.data, s, size)
		if err != nil {
			t.Fatal(err)
		}
		lat := size / 8
		stride := int(float64(lat) * 0.75)
		blend := int(float64(size) * 0.25)
		tiles := tilesOf(t, planes{z.data, s.c, s.h, s.w}, lat, stride, func(p planes) (planes, error) {
			img, err := m.decodeOne(p.data, latentShape{b: 1, c: p.c, h: p.h, w: p.w})
			return planes{img, 3, 8 * p.h, 8 * p.w}, err
		})
		if len(tiles) < 3 || len(tiles[0]) < 4 {
			t.Fatalf("tile size %d: only %dx%d tiles", size, len(tiles), len(tiles[0]))
		}
		d := maxDiff64(t, got, refTiled64(tiles, blend, size-blend))
		// The only float32 rounding left is in the blend's two products
		// and sum, on values of about ±1.
		if d > 1e-5 {
			t.Errorf("tile size %d: max |tiled − float64 tiling| = %.2g, want ≤ 1e-5", size, d)
		}
		t.Logf("tile size %d px: %dx%d tiles, max diff to the float64 tiling %.2g, %.1f dB against the untiled decode",
			size, len(tiles), len(tiles[0]), d, psnrSigned(got, untiled))
	}
}

// Tiles see only their own GroupNorm statistics and attention context, so
// a tiled decode is close to the untiled one only where tiles are large
// against the image's structure. On the tiny model's denoised latents
// (the 28-step Euler a pipeline's output, 16×24) measured: 128 px tiles
// (2×2) 36.6 dB, 96 px 33.6 dB, 64 px 28.0 dB, 32 px 20.8 dB; a tile
// pasted 8 pixels off scores about 13 dB.
func TestVAETiledDecodeCloseToUntiled(t *testing.T) {
	m, _, g := pipeFixture(t)
	z := goldenIn(t, g, "pipe/t2i_euler_a_28/latents_final")
	s := latentShape{b: 1, c: 4, h: z.shape[2], w: z.shape[3]}
	untiled, err := m.decodeOne(z.data, s)
	if err != nil {
		t.Fatal(err)
	}
	tiled, err := m.decodeTiled(z.data, s, 128)
	if err != nil {
		t.Fatal(err)
	}
	db := psnrSigned(tiled, untiled)
	t.Logf("128 px tiles: %.1f dB against the untiled decode", db)
	if db < 35 {
		t.Errorf("tiled decode %.1f dB from the untiled one, want ≥ 35 dB", db)
	}
}

func TestVAETiledEncodeMatchesDiffusersTiling(t *testing.T) {
	m, _, _ := pipeFixture(t)
	img := loadRefPNG(t, "tiny-sdxl-a-i2i-input.png")
	h, w := img.Rect.Dy(), img.Rect.Dx()
	signed := ImageToSigned(img)
	mean0, _, err := m.encode(signed, h, w)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range testTileSizes {
		mean, std, err := m.encodeTiled(signed, h, w, size)
		if err != nil {
			t.Fatal(err)
		}
		lat := size / 8
		blend := int(float64(lat) * 0.25)
		tiles := tilesOf(t, planes{signed, 3, h, w}, size, int(float64(size)*0.75), m.encodeMoments)
		ref := refTiled64(tiles, blend, lat-blend)
		half := len(ref) / 2
		if d := maxDiff64(t, mean, ref[:half]); d > 1e-5 {
			t.Errorf("tile size %d: mean differs from the float64 tiling by %.2g", size, d)
		}
		// std = exp(clamp(logvar)/2) of the blended log-variance.
		var d float64
		i := 0
		for c := half; c < len(ref); c++ {
			for y := range ref[c] {
				for _, lv := range ref[c][y] {
					want := math.Exp(math.Min(math.Max(lv, minLogVar), maxLogVar) / 2)
					d = math.Max(d, math.Abs(float64(std[i])-want)/want)
					i++
				}
			}
		}
		if d > 1e-5 {
			t.Errorf("tile size %d: std differs from the float64 tiling by %.2g (relative)", size, d)
		}
		t.Logf("tile size %d px: %dx%d tiles; mean relative L2 to the untiled encode %.3g", size, len(tiles), len(tiles[0]), relL2(mean, mean0))
	}
}

func TestVAETilingRejectsBadTileSize(t *testing.T) {
	for _, size := range []int{0, 16, 48, 100} {
		if _, err := decodeGeometry(size, 8); err == nil {
			t.Errorf("decode tile size %d accepted", size)
		}
		if _, err := encodeGeometry(size, 8); err == nil {
			t.Errorf("encode tile size %d accepted", size)
		}
	}
	for _, size := range []int{32, 64, 512, 1024} {
		if _, err := decodeGeometry(size, 8); err != nil {
			t.Errorf("decode tile size %d: %v", size, err)
		}
	}
}

func TestPlanVAE(t *testing.T) {
	m, _, _ := pipeFixture(t)
	need := m.vaeDecodeBytes(2048, 2048)
	cases := []struct {
		r     Request
		tiled bool
		tile  int
	}{
		{Request{}, false, 0},                                   // no budget: untiled
		{Request{MaxMemory: need}, false, 0},                    // fits
		{Request{MaxMemory: need - 1}, true, 1024},              // does not fit; a 1024 tile does
		{Request{MaxMemory: need / 64}, true, 256},              // shrinks to the smallest tile
		{Request{VAETiling: TilingOn}, true, 1024},              // forced
		{Request{VAETiling: TilingOff, MaxMemory: 1}, false, 0}, // forced off
		{Request{VAETiling: TilingOn, VAETileSize: 64}, true, 64},
	}
	for i, c := range cases {
		p := m.planVAE(&c.r, 2048, 2048, m.vaeDecodeBytes)
		if p.tiled != c.tiled || (c.tiled && p.tile != c.tile) {
			t.Errorf("case %d: plan %v, want tiled=%v tile %d", i, p, c.tiled, c.tile)
		}
	}
}

// deviceMemoryBackend is the CPU backend reporting device memory, as a GPU
// backend does.
type deviceMemoryBackend struct {
	tensor.Backend
	mem tensor.DeviceMemory
}

func (b deviceMemoryBackend) DeviceMemory() (tensor.DeviceMemory, error) { return b.mem, nil }

// TestPlanVAEOnADeviceUsesItsFreeMemory: without Request.MaxMemory, a device
// backend's budget is the driver's free memory plus the backend's idle
// blocks; a budget given wins.
func TestPlanVAEOnADeviceUsesItsFreeMemory(t *testing.T) {
	m, _, _ := pipeFixture(t)
	cpu := m.backend
	defer func() { m.backend = cpu }()
	m.backend = deviceMemoryBackend{Backend: cpu}
	need := m.vaeDecodeBytes(2048, 2048)
	for _, c := range []struct {
		mem   tensor.DeviceMemory
		r     Request
		tiled bool
	}{
		{tensor.DeviceMemory{Free: need, Held: 10, InUse: 10}, Request{}, false},
		{tensor.DeviceMemory{Free: need / 2, Held: need, InUse: need / 2}, Request{}, false}, // idle blocks count
		{tensor.DeviceMemory{Free: need / 2, Held: need, InUse: need/2 + 1}, Request{}, true},
		{tensor.DeviceMemory{Free: need / 2}, Request{MaxMemory: need}, false}, // the request's budget wins
		{tensor.DeviceMemory{Free: need / 2}, Request{MaxMemory: -1}, false},   // no budget at all
	} {
		m.backend = deviceMemoryBackend{cpu, c.mem}
		if p := m.planVAE(&c.r, 2048, 2048, m.vaeDecodeBytes); p.tiled != c.tiled {
			t.Errorf("%+v, MaxMemory %d: plan %v, want tiled=%v", c.mem, c.r.MaxMemory, p, c.tiled)
		}
	}
}
