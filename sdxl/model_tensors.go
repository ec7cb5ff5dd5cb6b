package sdxl

import (
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// ExpectedTensors lists every tensor a checkpoint of configuration cfg
// holds, with the shape it is stored in, by binding freshly declared
// networks in a dry run: the layer structs are the only description of the
// model, so `gen inspect`, adapter key tables and the tests read what
// loading would ask for, from the same code.
func ExpectedTensors(cfg weights.Config) (weights.Expected, error) {
	if err := checkUNetConfig(cfg.UNet); err != nil {
		return nil, err
	}
	e1, err := NewCLIPTextEncoder(cfg.TextEncoder1)
	if err != nil {
		return nil, err
	}
	e2, err := NewOpenCLIPTextEncoder(cfg.TextEncoder2)
	if err != nil {
		return nil, err
	}
	bd := weights.NewDryRun()
	bindNetworks(bd, NewUNet(cfg.UNet), NewVAE(cfg.VAE), &TextEncoders{CLIPL: e1, BigG: e2}, 0)
	return bd.Listing(), nil
}

// bindNetworks binds the three parts of a checkpoint under their canonical
// prefixes, for loading and for ExpectedTensors alike; vaeWeights, when
// set, is the type the VAE's weights are converted to.
func bindNetworks(bd *weights.Binder, unet *UNet, vae *VAE, text *TextEncoders, vaeWeights tensor.DType) {
	bd.Bind(weights.UNetPrefix, unet)
	if vaeWeights != 0 {
		bd.BindAs(weights.VAEPrefix, vae, vaeWeights)
	} else {
		bd.Bind(weights.VAEPrefix, vae)
	}
	text.Bind(bd)
}
