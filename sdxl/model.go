package sdxl

import (
	"fmt"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Model is a checkpoint's networks bound to one backend.
type Model struct {
	backend tensor.Backend
	src     weights.Source
	cfg     weights.Config
	unet    *UNet
	vae     *VAE
	text    *TextEncoders
	weights []*tensor.Tensor // every tensor the Binder uploaded, freed by Close
	// slots are the bound weights by canonical name (see model_lora.go).
	slots  map[string]**tensor.Tensor
	merger *lora.Merger
	// Precision is the activation type of each part, chosen by LoadModel
	// for the backend; callers may change it between generations.
	Precision Precision
}

// Precision is the activation dtype of each network. A network run in a
// half type gets its weights in that type, converted when the model is
// loaded where the checkpoint stores another (a BF16 or F32 UNet run in
// F16; the VAE, stored F16, run in BF16): the tensor-core kernels want
// weights of the activations' type, and a checkpoint's dtype must not send
// a model to the scalar kernels. Float32 networks keep the checkpoint's
// weights. Changing Precision after loading still works, on the slower
// kernels for mixed types.
type Precision struct {
	Text, UNet, VAE tensor.DType
}

// DefaultPrecision is float32 everywhere on the CPU (the reference). On a
// GPU the UNet runs in float16, where nearly all the arithmetic is; the
// text encoders too, as diffusers' and A1111's half-precision pipelines
// run them (in float32 they would run on the scalar kernels; LayerNorm
// statistics and the attention softmax stay float32 in any type, and a
// float16 overflow is reported by name: see checkTextFinite); the VAE runs
// in bfloat16: float16 overflows SDXL's VAE (NaN or black images),
// bfloat16 has float32's range, and float32 would leave the tensor cores
// idle (2.4 s for a 1024² decode on an H200 against 0.13 s for PyTorch in
// bf16).
func DefaultPrecision(b tensor.Backend) Precision {
	if tensor.OnHost(b) {
		return Precision{Text: tensor.F32, UNet: tensor.F32, VAE: tensor.F32}
	}
	return Precision{Text: tensor.F16, UNet: tensor.F16, VAE: tensor.BF16}
}

// weightType is the type a network computed in dt binds its weights as:
// dt itself for a half type, else the checkpoint's (0).
func weightType(dt tensor.DType) tensor.DType {
	if dt == tensor.F16 || dt == tensor.BF16 {
		return dt
	}
	return 0
}

// LoadModel opens a checkpoint (single file or diffusers folder), infers its
// configuration and binds all four networks to b at DefaultPrecision. Every
// problem with the file (unsupported model, missing or mis-shaped tensors,
// tensors nothing uses) comes back as one error naming the file.
func LoadModel(path string, b tensor.Backend) (*Model, error) {
	return LoadModelWith(path, b, LoadOptions{})
}

func bindModel(src weights.Source, b tensor.Backend, p Precision) (*Model, error) {
	cfg, err := weights.InferConfig(src)
	if err != nil {
		return nil, err
	}
	text, err := NewTextEncoders(cfg.TextEncoder1, cfg.TextEncoder2)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path(), err)
	}
	if err := checkUNetConfig(cfg.UNet); err != nil {
		return nil, fmt.Errorf("%s: %w", src.Path(), err)
	}
	m := &Model{backend: b, src: src, cfg: cfg, unet: NewUNet(cfg.UNet), vae: NewVAE(cfg.VAE),
		text: text, Precision: p}
	bd := weights.NewBinder(b, src)
	bindNetworks(bd, m.unet, m.vae, text, weightType(p.UNet), weightType(p.VAE), weightType(p.Text))
	m.weights = bd.Tensors()
	if err := bd.Err(); err != nil {
		m.freeWeights()
		return nil, err
	}
	m.slots = bd.Slots()
	if unused := bd.Unused(); len(unused) > 0 {
		m.freeWeights()
		return nil, fmt.Errorf("%s: %d tensors that no layer uses (an unsupported variant?): %s",
			src.Path(), len(unused), strings.Join(unused, ", "))
	}
	return m, b.Sync()
}

// Close frees the weights on the backend and releases the checkpoint
// mapping; the model is unusable afterwards. Closing twice is harmless.
func (m *Model) Close() error {
	if m.weights == nil {
		return nil
	}
	m.freeWeights()
	return m.src.Close()
}

// freeWeights frees what the Binder uploaded and, once adapters were
// merged, the merger's tensors instead of the originals it replaced, and
// the UNet's stacked copy of its ResBlocks' embedding projections.
func (m *Model) freeWeights() {
	m.unet.releaseEmbProjection(m.backend)
	released := func(*tensor.Tensor) bool { return false }
	if m.merger != nil {
		var made []*tensor.Tensor
		made, released = m.merger.Owned()
		for _, t := range made {
			m.backend.Free(t)
		}
	}
	for _, t := range m.weights {
		if !released(t) {
			m.backend.Free(t)
		}
	}
	m.weights, m.merger = nil, nil
}

// Config is the configuration inferred from the checkpoint.
func (m *Model) Config() weights.Config { return m.cfg }

// Backend is the backend the model's weights live on.
func (m *Model) Backend() tensor.Backend { return m.backend }
