package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/tensor"
)

// The VAE's memory use grows with the image: at full resolution the
// decoder's last up level holds its input (channels[1] after the 2×
// upsample), a GroupNorm and two convolutions' outputs at once. These
// estimates decide when TilingAuto tiles; they count activations only (the
// VAE's weights are the same either way), twice over on the CPU, where
// Go's collector lets the heap grow to twice the live data (GOGC=100).
// Measured: a 2048² decode in 512 px tiles with the full-size VAE peaks at
// 2472 MiB resident, for an estimate of 1792 MiB plus the weights.

// vaeDecodeBytes estimates the decoder's peak activation bytes for an
// H×W image: two tensors of channels[1] and three of channels[0] at full
// resolution (the upsampled input and its norm; a ResBlock's conv outputs
// and skip).
func (m *Model) vaeDecodeBytes(height, width int) int64 {
	ch := m.cfg.VAE.Channels
	wide := ch[0]
	if len(ch) > 1 {
		wide = ch[1]
	}
	return m.heapFactor() * int64(2*wide+3*ch[0]) * int64(height) * int64(width) * int64(m.Precision.VAE.Size())
}

// heapFactor is 2 on the CPU backend (garbage-collected host memory), 1
// on a device with its own allocator.
func (m *Model) heapFactor() int64 {
	if m.backend != nil && tensor.OnHost(m.backend) {
		return 2
	}
	return 1
}

// vaeEncodeBytes estimates the encoder's: four tensors of channels[0] at
// full resolution (conv_in's output and a ResBlock's norm, conv and skip).
func (m *Model) vaeEncodeBytes(height, width int) int64 {
	return m.heapFactor() * int64(4*m.cfg.VAE.Channels[0]) * int64(height) * int64(width) * int64(m.Precision.VAE.Size())
}

// vaePlan is how one VAE call runs: untiled, or tiled with a tile size.
type vaePlan struct {
	tiled bool
	tile  int
}

func (p vaePlan) String() string {
	if !p.tiled {
		return "untiled"
	}
	return fmt.Sprintf("tiles of %dpx", p.tile)
}

// planVAE decides tiling for an H×W image given the request and an
// estimate function. Auto tiles only when the untiled estimate is above
// the budget; it then starts from the request's tile size and halves it
// (down to 256 pixels) until one tile's estimate fits.
func (m *Model) planVAE(r *Request, height, width int, estimate func(h, w int) int64) vaePlan {
	tile := r.VAETileSize
	if tile == 0 {
		tile = DefaultVAETileSize
	}
	switch r.VAETiling {
	case TilingOn:
		return vaePlan{true, tile}
	case TilingOff:
		return vaePlan{}
	}
	budget := m.vaeBudget(r)
	if budget <= 0 || estimate(height, width) <= budget {
		return vaePlan{}
	}
	for tile > 256 && estimate(tile, tile) > budget {
		tile /= 2
	}
	return vaePlan{true, tile}
}

// vaeBudget is the memory one VAE call may use: Request.MaxMemory when
// set (negative: none); otherwise, on a device backend, what the device can
// still give (the driver's free memory plus the idle blocks this backend
// keeps for reuse), read when the call is planned, after the UNet's memory
// went back; on the CPU, 0 (no budget).
func (m *Model) vaeBudget(r *Request) int64 {
	if r.MaxMemory != 0 {
		return r.MaxMemory
	}
	mem, ok, err := m.DeviceMemory()
	if !ok || err != nil {
		return 0
	}
	return mem.Free + mem.Held - mem.InUse
}

// record notes a tiled call's tile size in Request.VAETileUsed.
func (p vaePlan) record(r *Request) {
	if p.tiled && r.VAETileUsed != nil {
		*r.VAETileUsed = max(*r.VAETileUsed, p.tile)
	}
}

// decodeLatents decodes pipeline latents [B,4,h,w] to images [B,3,8h,8w]
// one image at a time, tiled or not as the request and its memory budget
// say.
func (m *Model) decodeLatents(r *Request, latents []float32, s latentShape) ([]float32, error) {
	f := m.vae.Factor()
	plan := m.planVAE(r, s.h*f, s.w*f, m.vaeDecodeBytes)
	r.logf("VAE decode %dx%d: %s (untiled estimate %s, budget %s)", s.w*f, s.h*f, plan,
		formatBytes(m.vaeDecodeBytes(s.h*f, s.w*f)), formatBytes(m.vaeBudget(r)))
	plan.record(r)
	if !plan.tiled {
		return m.decode(latents, s)
	}
	per := s.c * s.h * s.w
	var images []float32
	for i := 0; i < s.b; i++ {
		img, err := m.decodeTiled(latents[i*per:(i+1)*per], latentShape{b: 1, c: s.c, h: s.h, w: s.w}, plan.tile)
		if err != nil {
			return nil, err
		}
		images = append(images, img...)
	}
	return images, nil
}

// encodeImage encodes one image [3,H,W] in [-1, 1] to the latent
// distribution's mean and std, tiled or not as the request says.
func (m *Model) encodeImage(r *Request, img []float32, height, width int) (mean, std []float32, err error) {
	plan := m.planVAE(r, height, width, m.vaeEncodeBytes)
	r.logf("VAE encode %dx%d: %s", width, height, plan)
	plan.record(r)
	if !plan.tiled {
		return m.encode(img, height, width)
	}
	return m.encodeTiled(img, height, width, plan.tile)
}

func (r *Request) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// formatBytes writes a byte count in MiB or GiB ("none" for 0).
func formatBytes(n int64) string {
	switch {
	case n <= 0:
		return "none"
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
