package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/nn"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// VAEScale is SDXL's latent scaling factor: the pipeline's latents are the
// VAE's latents times VAEScale (no shift).
const VAEScale = 0.13025

// Log-variance bounds of diffusers' DiagonalGaussianDistribution.
const (
	minLogVar = -30
	maxLogVar = 20
)

// VAE is SDXL's autoencoder (AutoencoderKL) in the SGM layout, bound with
//
//	weights.NewBinder(b, src).Bind(weights.VAEPrefix, v)
type VAE struct {
	Encoder       vaeEncoder `weight:"encoder"`
	QuantConv     nn.Conv2D  `weight:"quant_conv"`
	PostQuantConv nn.Conv2D  `weight:"post_quant_conv"`
	Decoder       vaeDecoder `weight:"decoder"`
	cfg           weights.VAEConfig
}

// NewVAE declares the VAE of cfg with Spec-shaped weights.
func NewVAE(cfg weights.VAEConfig) *VAE {
	if len(cfg.Channels) == 0 || cfg.LatentChannels <= 0 {
		panic(fmt.Sprintf("sdxl: VAE config needs channels and latent channels, got %+v", cfg))
	}
	lat := cfg.LatentChannels
	return &VAE{
		Encoder:       newVAEEncoder(cfg),
		QuantConv:     nn.NewConv2D(2*lat, 2*lat, 1, 1, 0),
		PostQuantConv: nn.NewConv2D(lat, lat, 1, 1, 0),
		Decoder:       newVAEDecoder(cfg),
		cfg:           cfg,
	}
}

// Factor is the ratio of image to latent size (8 in SDXL).
func (v *VAE) Factor() int { return 1 << (len(v.cfg.Channels) - 1) }

// Decode maps z [B,h,w,latent] (the pipeline's latents divided by VAEScale)
// to images [B,8h,8w,3], roughly in [-1, 1] and not clamped.
func (v *VAE) Decode(b tensor.Backend, z *tensor.Tensor) *tensor.Tensor {
	if s := z.Shape(); len(s) != 4 || s[3] != v.cfg.LatentChannels {
		panic(fmt.Sprintf("sdxl: VAE Decode needs [B,h,w,%d] latents, got %v", v.cfg.LatentChannels, s))
	}
	h := v.PostQuantConv.Forward(b, z)
	y := v.Decoder.Forward(b, h)
	b.Free(h)
	return y
}

// CheckEncodeInput reports whether img can be encoded: [B,H,W,3] with H
// and W multiples of Factor.
func (v *VAE) CheckEncodeInput(img *tensor.Tensor) error {
	s := img.Shape()
	f := v.Factor()
	if len(s) != 4 || s[3] != 3 || s[1] == 0 || s[2] == 0 || s[1]%f != 0 || s[2]%f != 0 {
		return fmt.Errorf("sdxl: VAE Encode needs an RGB image [B,H,W,3] with H and W multiples of %d, got %v", f, s)
	}
	return nil
}

// Encode maps images img [B,H,W,3] in [-1, 1] to the latent distribution's
// mean and log-variance [B,H/8,W/8,latent] (log-variance clamped to
// [-30, 20]; std = exp(logvar/2)). It panics on what CheckEncodeInput rejects.
func (v *VAE) Encode(b tensor.Backend, img *tensor.Tensor) (mean, logvar *tensor.Tensor) {
	if err := v.CheckEncodeInput(img); err != nil {
		panic(err)
	}
	h := v.Encoder.Forward(b, img)
	moments := v.QuantConv.Forward(b, h)
	b.Free(h)

	s := moments.Shape()
	lat := v.cfg.LatentChannels
	mean = b.Alloc(moments.DType(), s[0], s[1], s[2], lat)
	b.Slice(mean, moments, 0)
	raw := b.Alloc(moments.DType(), s[0], s[1], s[2], lat)
	b.Slice(raw, moments, lat)
	b.Free(moments)

	// The clamp runs on the host: the backend has no clamp op, and the
	// latent is small (1/64 of the image's pixels).
	lv := b.ToFloat32(raw)
	for i, x := range lv {
		lv[i] = min(max(x, minLogVar), maxLogVar)
	}
	logvar = b.FromFloat32(raw.DType(), raw.Shape(), lv)
	b.Free(raw)
	return mean, logvar
}
