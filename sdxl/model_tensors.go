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
	bindNetworks(bd, NewUNet(cfg.UNet), NewVAE(cfg.VAE), &TextEncoders{CLIPL: e1, BigG: e2}, 0, 0, 0)
	return bd.Listing(), nil
}

// bindNetworks binds the three parts of a checkpoint under their canonical
// prefixes, for loading and for ExpectedTensors alike; unetWeights,
// vaeWeights and textWeights, when set, are the types those networks'
// weights are converted to (see Precision).
func bindNetworks(bd *weights.Binder, unet *UNet, vae *VAE, text *TextEncoders, unetWeights, vaeWeights, textWeights tensor.DType) {
	bd.BindAs(weights.UNetPrefix, unet, unetWeights)
	bd.BindAs(weights.VAEPrefix, vae, vaeWeights)
	text.Bind(bd, textWeights)
}
