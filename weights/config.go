package weights

// Config is the model configuration inferred from tensor shapes. Its JSON
// form is what `gen inspect` prints under "config".
type Config struct {
	UNet         UNetConfig        `json:"unet"`
	TextEncoder1 TextEncoderConfig `json:"text_encoder_1"`
	TextEncoder2 TextEncoderConfig `json:"text_encoder_2"`
	VAE          VAEConfig         `json:"vae"`
}

// UNetConfig describes the denoising UNet. Per-level slices have one entry
// per resolution level (3 in SDXL); a level without attention has
// transformer depth 0 and heads 0. Head size is 64 everywhere (SDXL).
type UNetConfig struct {
	Channels            []int `json:"channels"`
	TransformerDepth    []int `json:"transformer_depth"`
	MidTransformerDepth int   `json:"mid_transformer_depth"`
	Heads               []int `json:"heads"`
	ContextDim          int   `json:"context_dim"`
	ADMInChannels       int   `json:"adm_in_channels"`
	TimeEmbedDim        int   `json:"time_embed_dim"`
	InChannels          int   `json:"in_channels"`
	OutChannels         int   `json:"out_channels"`
	// ResBlocksPerLevel is the number of ResBlocks per down level (2 in
	// SDXL; up levels have one more).
	ResBlocksPerLevel int `json:"-"`
	// PooledDim is the pooled text width inside the ADM input (1280 in SDXL);
	// the rest is six size/crop sinusoids of (ADMInChannels-PooledDim)/6 each.
	PooledDim int `json:"-"`
}

// TextEncoderConfig describes a CLIP text transformer. Projection is set
// for the second (OpenCLIP bigG) encoder only.
type TextEncoderConfig struct {
	Hidden       int `json:"hidden"`
	Layers       int `json:"layers"`
	Heads        int `json:"heads"`
	Intermediate int `json:"intermediate"`
	Vocab        int `json:"vocab"`
	Positions    int `json:"positions"`
	Projection   int `json:"projection,omitempty"`
}

// VAEConfig describes the autoencoder: channels per level (encoder order,
// narrowest first) and the latent channel count.
type VAEConfig struct {
	Channels       []int `json:"channels"`
	LatentChannels int   `json:"latent_channels"`
	// ResBlocksPerLevel is the number of ResBlocks per encoder level (2 in
	// SDXL; decoder levels have one more).
	ResBlocksPerLevel int `json:"-"`
}

// Head size and norm group count are SDXL constants, not stored in files.
const (
	HeadDim    = 64
	NormGroups = 32
)

// Canonical (SGM single-file) name prefixes of the four models.
const (
	UNetPrefix         = "model.diffusion_model."
	TextEncoder1Prefix = "conditioner.embedders.0.transformer.text_model."
	TextEncoder2Prefix = "conditioner.embedders.1.model."
	VAEPrefix          = "first_stage_model."
)
