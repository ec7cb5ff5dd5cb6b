package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// Tiled VAE decode and encode, diffusers' AutoencoderKL.enable_tiling
// algorithm: the input is cut into overlapping square tiles, each tile runs
// through the network alone, and each tile's top and left edges are
// blended linearly into the (already blended) tiles above and to the left
// before its kept part is pasted. Peak memory is that of one tile however
// large the image.
//
// Geometry, with S the tile size in pixels (tile_sample_min_size, 1024 for
// SDXL's VAE), L = S/8 (tile_latent_min_size) and overlap factor 0.25:
//
//	decode: latent tiles L×L every int(0.75·L) latents; blend int(0.25·S)
//	        pixels; keep S − blend pixels of each tile.
//	encode: pixel tiles S×S every int(0.75·S) pixels; blend int(0.25·L)
//	        latents of the raw moments (mean and log-variance, before the
//	        clamp); keep L − blend.

// VAETiling selects whether the VAE runs in tiles.
type VAETiling int

const (
	// TilingAuto tiles when the untiled VAE's estimated working memory is
	// above Request.MaxMemory, or, without one, above what the device has
	// free (never on the CPU without a budget).
	TilingAuto VAETiling = iota
	TilingOn
	TilingOff
)

// DefaultVAETileSize is diffusers' tile_sample_min_size for SDXL's VAE
// (its config's sample_size).
const DefaultVAETileSize = 1024

// tileOverlap is diffusers' tile_overlap_factor.
const tileOverlap = 0.25

// tileGeometry is one direction of the tiling in input and output units.
type tileGeometry struct {
	tile   int // input tile side
	stride int // input distance between tile origins
	blend  int // output rows/columns blended with the neighbour
	keep   int // output rows/columns kept of each tile
	num    int // output size = input size · num / den
	den    int
}

func decodeGeometry(sample, factor int) (tileGeometry, error) {
	lat := sample / factor
	g := tileGeometry{tile: lat, stride: int(float64(lat) * (1 - tileOverlap)),
		blend: int(float64(sample) * tileOverlap), num: factor, den: 1}
	g.keep = sample - g.blend
	return g, g.check(sample, factor)
}

func encodeGeometry(sample, factor int) (tileGeometry, error) {
	lat := sample / factor
	g := tileGeometry{tile: sample, stride: int(float64(sample) * (1 - tileOverlap)),
		blend: int(float64(lat) * tileOverlap), num: 1, den: factor}
	g.keep = lat - g.blend
	return g, g.check(sample, factor)
}

// check rejects tile sizes whose kept parts would not tile the output
// exactly (diffusers would then repeat or drop pixels).
func (g tileGeometry) check(sample, factor int) error {
	if sample < 4*factor || sample%(4*factor) != 0 || g.keep*g.den != g.stride*g.num {
		return fmt.Errorf("VAE tile size %d: must be a positive multiple of %d", sample, 4*factor)
	}
	return nil
}

// planes is one image's host data, NCHW without the batch.
type planes struct {
	data    []float32
	c, h, w int
}

func (p planes) at(c, y, x int) *float32 { return &p.data[(c*p.h+y)*p.w+x] }

// crop copies rows y0…y0+h and columns x0…x0+w.
func (p planes) crop(y0, x0, h, w int) planes {
	out := planes{make([]float32, p.c*h*w), p.c, h, w}
	for c := 0; c < p.c; c++ {
		for y := 0; y < h; y++ {
			copy(out.data[(c*h+y)*w:(c*h+y+1)*w], p.data[(c*p.h+y0+y)*p.w+x0:])
		}
	}
	return out
}

// runTiled applies net to every tile of in and assembles the blended
// result, holding only the previous row of output tiles.
func runTiled(in planes, g tileGeometry, net func(planes) (planes, error)) (planes, error) {
	outH, outW := in.h*g.num/g.den, in.w*g.num/g.den
	var out planes
	var above []planes
	oy := 0
	for y0 := 0; y0 < in.h; y0 += g.stride {
		row := make([]planes, 0, (in.w+g.stride-1)/g.stride)
		ox := 0
		for x0 := 0; x0 < in.w; x0 += g.stride {
			t, err := net(in.crop(y0, x0, min(g.tile, in.h-y0), min(g.tile, in.w-x0)))
			if err != nil {
				return planes{}, err
			}
			if out.data == nil {
				out = planes{make([]float32, t.c*outH*outW), t.c, outH, outW}
			}
			j := len(row)
			if above != nil {
				blendV(above[j], t, g.blend)
			}
			if j > 0 {
				blendH(row[j-1], t, g.blend)
			}
			row = append(row, t)
			kh, kw := min(g.keep, t.h), min(g.keep, t.w)
			if oy+kh > outH || ox+kw > outW {
				return planes{}, fmt.Errorf("sdxl: VAE tile at %d,%d overruns the %dx%d output", oy, ox, outH, outW)
			}
			for c := 0; c < t.c; c++ {
				for y := 0; y < kh; y++ {
					copy(out.data[(c*outH+oy+y)*outW+ox:(c*outH+oy+y)*outW+ox+kw], t.data[(c*t.h+y)*t.w:])
				}
			}
			ox += kw
		}
		oy += min(g.keep, row[0].h)
		above = row
	}
	return out, nil
}

// blendV fades the bottom rows of a into the top rows of b, in place in b:
// b[y] = a[h−e+y]·(1 − y/e) + b[y]·(y/e) (diffusers' blend_v, weights
// rounded to float32 as torch multiplies a float32 tensor by a scalar).
func blendV(a, b planes, extent int) {
	e := min(a.h, b.h, extent)
	for y := 0; y < e; y++ {
		wa, wb := float32(1-float64(y)/float64(e)), float32(float64(y)/float64(e))
		for c := 0; c < b.c; c++ {
			for x := 0; x < b.w; x++ {
				p := b.at(c, y, x)
				*p = float32(*a.at(c, a.h-e+y, x)*wa) + float32(*p*wb)
			}
		}
	}
}

// blendH is blendV across columns (diffusers' blend_h).
func blendH(a, b planes, extent int) {
	e := min(a.w, b.w, extent)
	for x := 0; x < e; x++ {
		wa, wb := float32(1-float64(x)/float64(e)), float32(float64(x)/float64(e))
		for c := 0; c < b.c; c++ {
			for y := 0; y < b.h; y++ {
				p := b.at(c, y, x)
				*p = float32(*a.at(c, y, a.w-e+x)*wa) + float32(*p*wb)
			}
		}
	}
}

// decodeTiled decodes one image's pipeline latents [4,h,w] in tiles of
// tileSize pixels into an image [3,8h,8w].
func (m *Model) decodeTiled(latents []float32, s latentShape, tileSize int) ([]float32, error) {
	g, err := decodeGeometry(tileSize, m.vae.Factor())
	if err != nil {
		return nil, err
	}
	out, err := runTiled(planes{latents, s.c, s.h, s.w}, g, func(t planes) (planes, error) {
		img, err := m.decodeOne(t.data, latentShape{b: 1, c: t.c, h: t.h, w: t.w})
		f := m.vae.Factor()
		return planes{img, len(img) / (t.h * f * t.w * f), t.h * f, t.w * f}, err
	})
	return out.data, err
}

// encodeTiled encodes one image [3,H,W] in [-1, 1] in tiles of tileSize
// pixels and returns the latent distribution's mean and std [4,H/8,W/8].
func (m *Model) encodeTiled(img []float32, h, w, tileSize int) (mean, std []float32, err error) {
	g, err := encodeGeometry(tileSize, m.vae.Factor())
	if err != nil {
		return nil, nil, err
	}
	moments, err := runTiled(planes{img, 3, h, w}, g, func(t planes) (planes, error) {
		return m.encodeMoments(t)
	})
	if err != nil {
		return nil, nil, err
	}
	n := len(moments.data) / 2
	mean = moments.data[:n]
	std = make([]float32, n)
	for i, lv := range moments.data[n:] {
		std[i] = exp32(0.5 * min(max(lv, minLogVar), maxLogVar))
	}
	return mean, std, nil
}

// encodeMoments runs the encoder and quant_conv on one tile and returns
// the raw moments (mean ‖ log-variance, unclamped), NCHW.
func (m *Model) encodeMoments(t planes) (planes, error) {
	b := m.backend
	x := b.FromFloat32(m.Precision.VAE, tensor.Shape{1, t.h, t.w, 3}, NCHWToNHWC(t.data, 1, 3, t.h, t.w))
	if err := m.vae.CheckEncodeInput(x); err != nil {
		b.Free(x)
		return planes{}, err
	}
	hid := m.vae.Encoder.Forward(b, x)
	mom := m.vae.QuantConv.Forward(b, hid)
	s := mom.Shape()
	data := b.ToFloat32(mom)
	for _, t := range []*tensor.Tensor{x, hid, mom} {
		b.Free(t)
	}
	if err := b.Sync(); err != nil {
		return planes{}, err
	}
	return planes{NHWCToNCHW(data, s[0], s[1], s[2], s[3]), s[3], s[1], s[2]}, nil
}
