package server

// Spec is one validated generation job: what the HTTP front end hands to
// a Runner, locally or as JSON over NATS. Names are this project's
// (sampler.Lookup, sampler schedules), not A1111's display names.
type Spec struct {
	ID string `json:"id"`
	// Model is the checkpoint name (file name without extension) the job
	// needs; "" runs on any.
	Model     string  `json:"model,omitempty"`
	Prompt    string  `json:"prompt"`
	Negative  string  `json:"negative"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	Steps     int     `json:"steps"`
	CFGScale  float64 `json:"cfg_scale"`
	Sampler   string  `json:"sampler"`
	Schedule  string  `json:"schedule,omitempty"`
	Seed      uint64  `json:"seed"`
	BatchSize int     `json:"batch_size"`
	NIter     int     `json:"n_iter"`
	// InitImage is the encoded (PNG or JPEG) img2img start image; nil for
	// txt2img.
	InitImage []byte  `json:"init_image,omitempty"`
	Strength  float64 `json:"strength,omitempty"`
	// ResizeMode brings an init image of another size to Width×Height
	// (sdxl.ResizeMode: A1111's resize_mode 0, 1 or 2).
	ResizeMode int `json:"resize_mode,omitempty"`
	// Hires and Inpaint are the hires fix (txt2img) and inpainting
	// (img2img with a mask); nil when not asked for (job_modes.go).
	Hires   *HiresSpec   `json:"hires,omitempty"`
	Inpaint *InpaintSpec `json:"inpaint,omitempty"`
	// PreviewEvery is the live preview period in steps (previews.go); 0
	// makes none.
	PreviewEvery int `json:"preview_every,omitempty"`
}

// Images is the number of images the job makes.
func (s *Spec) Images() int { return s.BatchSize * s.NIter }

// Output is a finished job: PNG files with their A1111 parameters text,
// image i made from Seeds[i].
type Output struct {
	Images    [][]byte `json:"images"`
	Seeds     []uint64 `json:"seeds"`
	Infotexts []string `json:"infotexts"`
	Width     int      `json:"width"`
	Height    int      `json:"height"`
	ModelName string   `json:"model_name"`
	ModelHash string   `json:"model_hash"`
	// Interrupted: /sdapi/v1/interrupt stopped the job; Images holds the
	// iterations finished before and, as A1111 does, the stopped one's
	// images as far as they got.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Progress is where a running job is.
type Progress struct {
	Iteration  int `json:"iteration"` // 0-based batch iteration (n_iter)
	Iterations int `json:"iterations"`
	Step       int `json:"step"` // steps done in this iteration
	Steps      int `json:"steps"`
	// Preview is the live preview made after this step (base64 PNG), if
	// one was due; a job's progress keeps the latest one.
	Preview string `json:"preview,omitempty"`
}

// Fraction is the share of the job done, in [0, 1].
func (p Progress) Fraction() float64 {
	if p.Iterations == 0 || p.Steps == 0 {
		return 0
	}
	return (float64(p.Iteration) + float64(p.Step)/float64(p.Steps)) / float64(p.Iterations)
}
