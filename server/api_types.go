package server

import (
	"encoding/json"
	"reflect"
)

// GenerationRequest is the body of POST /sdapi/v1/txt2img and
// /sdapi/v1/img2img: AUTOMATIC1111's StableDiffusionProcessing fields with
// its defaults (newRequest). Fields this server does not act on are still
// declared, so that clients sending them are not told they are unknown;
// unsupported.go decides which of them are refused when set.
type GenerationRequest struct {
	Prompt          string   `json:"prompt"`
	NegativePrompt  string   `json:"negative_prompt"`
	Styles          []string `json:"styles"`
	Seed            int64    `json:"seed"`
	Subseed         int64    `json:"subseed"`
	SubseedStrength float64  `json:"subseed_strength"`
	SeedResizeFromH int      `json:"seed_resize_from_h"`
	SeedResizeFromW int      `json:"seed_resize_from_w"`
	SamplerName     string   `json:"sampler_name"`
	SamplerIndex    string   `json:"sampler_index"`
	Scheduler       string   `json:"scheduler"`
	BatchSize       int      `json:"batch_size"`
	NIter           int      `json:"n_iter"`
	Steps           int      `json:"steps"`
	CFGScale        float64  `json:"cfg_scale"`
	Width           int      `json:"width"`
	Height          int      `json:"height"`

	RestoreFaces                      bool           `json:"restore_faces"`
	Tiling                            bool           `json:"tiling"`
	DoNotSaveSamples                  bool           `json:"do_not_save_samples"`
	DoNotSaveGrid                     bool           `json:"do_not_save_grid"`
	Eta                               *float64       `json:"eta"`
	SMinUncond                        float64        `json:"s_min_uncond"`
	SChurn                            float64        `json:"s_churn"`
	STmax                             float64        `json:"s_tmax"`
	STmin                             float64        `json:"s_tmin"`
	SNoise                            float64        `json:"s_noise"`
	OverrideSettings                  map[string]any `json:"override_settings"`
	OverrideSettingsRestoreAfterwards bool           `json:"override_settings_restore_afterwards"`
	RefinerCheckpoint                 string         `json:"refiner_checkpoint"`
	RefinerSwitchAt                   float64        `json:"refiner_switch_at"`
	DisableExtraNetworks              bool           `json:"disable_extra_networks"`
	Comments                          map[string]any `json:"comments"`
	ForceTaskID                       string         `json:"force_task_id"`
	ScriptName                        string         `json:"script_name"`
	ScriptArgs                        []any          `json:"script_args"`
	SendImages                        bool           `json:"send_images"`
	SaveImages                        bool           `json:"save_images"`
	AlwaysonScripts                   map[string]any `json:"alwayson_scripts"`
	Infotext                          string         `json:"infotext"`

	// txt2img: hires fix.
	EnableHR          bool     `json:"enable_hr"`
	DenoisingStrength *float64 `json:"denoising_strength"`
	FirstphaseWidth   int      `json:"firstphase_width"`
	FirstphaseHeight  int      `json:"firstphase_height"`
	HRScale           float64  `json:"hr_scale"`
	HRUpscaler        string   `json:"hr_upscaler"`
	HRSecondPassSteps int      `json:"hr_second_pass_steps"`
	HRResizeX         int      `json:"hr_resize_x"`
	HRResizeY         int      `json:"hr_resize_y"`
	HRCheckpointName  string   `json:"hr_checkpoint_name"`
	HRSamplerName     string   `json:"hr_sampler_name"`
	HRScheduler       string   `json:"hr_scheduler"`
	HRPrompt          string   `json:"hr_prompt"`
	HRNegativePrompt  string   `json:"hr_negative_prompt"`
	HRCFG             *float64 `json:"hr_cfg"` // nil: the first pass's cfg_scale
	FirstpassImage    string   `json:"firstpass_image"`

	// img2img.
	InitImages             []string `json:"init_images"`
	ResizeMode             int      `json:"resize_mode"`
	ImageCFGScale          *float64 `json:"image_cfg_scale"`
	Mask                   string   `json:"mask"`
	MaskBlurX              int      `json:"mask_blur_x"`
	MaskBlurY              int      `json:"mask_blur_y"`
	MaskBlur               *int     `json:"mask_blur"`
	MaskRound              bool     `json:"mask_round"`
	InpaintingFill         int      `json:"inpainting_fill"`
	InpaintFullRes         flexBool `json:"inpaint_full_res"`
	InpaintFullResPadding  int      `json:"inpaint_full_res_padding"`
	InpaintingMaskInvert   int      `json:"inpainting_mask_invert"`
	InitialNoiseMultiplier *float64 `json:"initial_noise_multiplier"`
	LatentMask             string   `json:"latent_mask"`
	IncludeInitImages      bool     `json:"include_init_images"`
}

// flexBool is a JSON boolean that also reads 0 and 1: A1111's web UI
// sends inpaint_full_res as the index of its radio button, and pydantic
// takes either.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", "1":
		*b = true
	case "false", "0":
		*b = false
	case "null":
	default:
		return &json.UnmarshalTypeError{Value: string(data), Type: reflect.TypeOf(true)}
	}
	return nil
}

// newRequest returns A1111's defaults (modules/processing.py and
// modules/api/models.py): Euler (the API's sampler_index default), 50
// steps, CFG 7, 512×512, a random seed; img2img changes 75 % of the
// schedule.
func newRequest(img2img bool) GenerationRequest {
	r := GenerationRequest{
		Seed: -1, Subseed: -1, SeedResizeFromH: -1, SeedResizeFromW: -1,
		SamplerIndex: "Euler",
		BatchSize:    1, NIter: 1, Steps: 50, CFGScale: 7, Width: 512, Height: 512,
		SNoise:                            1,
		OverrideSettingsRestoreAfterwards: true,
		SendImages:                        true,
		HRScale:                           2,
		MaskBlurX:                         4, MaskBlurY: 4,
		InpaintFullRes: true,
	}
	if img2img {
		strength := 0.75
		r.DenoisingStrength = &strength
	}
	return r
}

// GenerationResponse is A1111's TextToImageResponse / ImageToImageResponse.
type GenerationResponse struct {
	Images     []string           `json:"images"`
	Parameters *GenerationRequest `json:"parameters"`
	Info       string             `json:"info"`
}

// generationInfo is the JSON in GenerationResponse.Info: A1111's
// Processed.js(), the fields clients read (seed, all_seeds, infotexts).
type generationInfo struct {
	Prompt                        string         `json:"prompt"`
	AllPrompts                    []string       `json:"all_prompts"`
	NegativePrompt                string         `json:"negative_prompt"`
	AllNegativePrompts            []string       `json:"all_negative_prompts"`
	Seed                          uint64         `json:"seed"`
	AllSeeds                      []uint64       `json:"all_seeds"`
	Subseed                       int64          `json:"subseed"`
	AllSubseeds                   []int64        `json:"all_subseeds"`
	SubseedStrength               float64        `json:"subseed_strength"`
	Width                         int            `json:"width"`
	Height                        int            `json:"height"`
	SamplerName                   string         `json:"sampler_name"`
	CFGScale                      float64        `json:"cfg_scale"`
	Steps                         int            `json:"steps"`
	BatchSize                     int            `json:"batch_size"`
	RestoreFaces                  bool           `json:"restore_faces"`
	FaceRestorationModel          *string        `json:"face_restoration_model"`
	SDModelName                   string         `json:"sd_model_name"`
	SDModelHash                   string         `json:"sd_model_hash"`
	SDVaeName                     *string        `json:"sd_vae_name"`
	SDVaeHash                     *string        `json:"sd_vae_hash"`
	SeedResizeFromW               int            `json:"seed_resize_from_w"`
	SeedResizeFromH               int            `json:"seed_resize_from_h"`
	DenoisingStrength             *float64       `json:"denoising_strength"`
	ExtraGenerationParams         map[string]any `json:"extra_generation_params"`
	IndexOfFirstImage             int            `json:"index_of_first_image"`
	Infotexts                     []string       `json:"infotexts"`
	Styles                        []string       `json:"styles"`
	JobTimestamp                  string         `json:"job_timestamp"`
	ClipSkip                      int            `json:"clip_skip"`
	IsUsingInpaintingConditioning bool           `json:"is_using_inpainting_conditioning"`
	Version                       string         `json:"version"`
}

// progressResponse is A1111's ProgressResponse.
type progressResponse struct {
	Progress    float64       `json:"progress"`
	ETARelative float64       `json:"eta_relative"`
	State       progressState `json:"state"`
	// CurrentImage is the latest live preview (base64 PNG, previews.go),
	// null before the first one or with ?skip_current_image=true.
	CurrentImage *string `json:"current_image"`
	TextInfo     *string `json:"textinfo"`
}

// progressState is A1111's shared.state.dict().
type progressState struct {
	Skipped            bool   `json:"skipped"`
	Interrupted        bool   `json:"interrupted"`
	StoppingGeneration bool   `json:"stopping_generation"`
	Job                string `json:"job"`
	JobCount           int    `json:"job_count"`
	JobTimestamp       string `json:"job_timestamp"`
	JobNo              int    `json:"job_no"`
	SamplingStep       int    `json:"sampling_step"`
	SamplingSteps      int    `json:"sampling_steps"`
}

// apiError is A1111's error body (api.py handle_exception).
type apiError struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
	Body   string `json:"body"`
	Errors string `json:"errors"`
}
