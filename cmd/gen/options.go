package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/internal/infotext"
)

// Default checkpoint and the settings Animagine XL 4.0's model card
// recommends.
const (
	defaultWidth    = 832
	defaultHeight   = 1216
	defaultSteps    = 28
	defaultCFG      = 5.0
	defaultSampler  = "euler_a"
	defaultStrength = 0.75 // A1111's img2img default; diffusers' is 0.3
)

// options is everything a generation needs from the command line.
type options struct {
	model        string
	prompt       string
	negative     optionalString // not given → zero negative conditioning
	width        int
	height       int
	steps        int
	cfg          float64
	sampler      string
	schedule     string
	seed         optionalUint
	batch        int
	initImage    string
	strength     float64
	device       string
	out          string
	overwrite    bool
	dump         string
	compat       string
	promptSyntax string
	quiet        bool
	from         string
	rng          string
	adapters     adapterOptions // options_lora.go
	fromStrict   bool
	hires        hiresOptions // options_hires.go
	vaePrecision string       // options_precision.go
	textPrec     string       // --text-precision: options_text_precision.go

	set map[string]bool // flags given explicitly, by canonical name
	// spelled is each flag as the user wrote it ("-p", "--steps"), by
	// canonical name; fromField the --from metadata field a value came
	// from. Messages name what the user gave (see flagName).
	spelled   map[string]string
	fromField map[string]string
	// initWidth and initHeight are the --init-image's size (its header).
	initWidth, initHeight int
	// fromParams is the --from PNG's parameters.
	fromParams *infotext.Parameters
}

// optionalString tells "not given" from "given as empty".
type optionalString struct {
	value string
	set   bool
}

func (o *optionalString) String() string { return o.value }
func (o *optionalString) Set(s string) error {
	o.value, o.set = s, true
	return nil
}

type optionalUint struct {
	value uint64
	set   bool
}

func (o *optionalUint) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatUint(o.value, 10)
}
func (o *optionalUint) Set(s string) error {
	if s == "-1" { // random, as in A1111 and stable-diffusion.cpp
		*o = optionalUint{}
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("must be a whole number from 0 to %d, or -1 for a random seed", uint64(math.MaxUint64))
	}
	o.value, o.set = v, true
	return nil
}

// aliases maps short flag names to their canonical long names.
var aliases = map[string]string{"p": "prompt", "n": "negative", "q": "quiet"}

// newFlagSet declares every generation flag on a fresh FlagSet writing its
// messages to w.
func newFlagSet(o *options, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.model, "model", defaultModel, "")
	fs.StringVar(&o.prompt, "prompt", "", "")
	fs.StringVar(&o.prompt, "p", "", "")
	fs.Var(&o.negative, "negative", "")
	fs.Var(&o.negative, "n", "")
	fs.IntVar(&o.width, "width", defaultWidth, "")
	fs.IntVar(&o.height, "height", defaultHeight, "")
	fs.IntVar(&o.steps, "steps", defaultSteps, "")
	fs.Float64Var(&o.cfg, "cfg", defaultCFG, "")
	fs.StringVar(&o.sampler, "sampler", defaultSampler, "")
	fs.StringVar(&o.schedule, "schedule", "", "")
	fs.Var(&o.seed, "seed", "")
	fs.IntVar(&o.batch, "batch", 1, "")
	fs.StringVar(&o.initImage, "init-image", "", "")
	fs.Float64Var(&o.strength, "strength", defaultStrength, "")
	fs.StringVar(&o.device, "device", "auto", "")
	fs.StringVar(&o.vaePrecision, "vae-precision", "auto", "")
	fs.StringVar(&o.textPrec, "text-precision", "auto", "")
	fs.StringVar(&o.out, "out", "", "")
	fs.BoolVar(&o.overwrite, "overwrite", false, "")
	fs.StringVar(&o.dump, "dump", "", "")
	fs.StringVar(&o.compat, "compat", "gosdxl", "")
	fs.StringVar(&o.promptSyntax, "prompt-syntax", "a1111", "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.StringVar(&o.from, "from", "", "")
	fs.StringVar(&o.rng, "rng", "torch-cpu", "")
	fs.BoolVar(&o.fromStrict, "from-strict", false, "")
	registerAdapterFlags(fs, &o.adapters)
	registerHiresFlags(fs, &o.hires)
	fs.Usage = func() { fmt.Fprint(w, usageText+adapterUsage+usageHires) }
	return fs
}

const usageText = `Usage: gen [flags]            generate images
       gen pull               download the default checkpoint
       gen inspect FILE       describe a checkpoint or a generated PNG
       gen tokenize -p TEXT   show token ids and prompt weights
       gen serve [flags]      serve AUTOMATIC1111's API and a web page (gen serve -h)
       gen worker [flags]     run gen serve's jobs from NATS JetStream (gen worker -h)

Prompt:
  -p, --prompt TEXT        what to draw (Animagine: "1girl, name, series, rating, ..., masterpiece")
  -n, --negative TEXT      what to avoid; omitted = zero negative conditioning, "" = the empty prompt encoded
      --prompt-syntax S    a1111 (weights like (word:1.2), prompts over 75 tokens in chunks) or none
Image:
      --width N            width in pixels, a multiple of 8 (default 832; at most 16384, and
                           64 megapixels with --height, within the machine's memory)
      --height N           height in pixels, a multiple of 8 (default 1216)
      --batch N            images per run (default 1, at most 64)
      --init-image FILE    start from this PNG/JPEG (img2img); its size, rounded down to multiples of 8,
                           is the output size unless --width/--height resize it
      --strength X         img2img: how much to change, in (0, 1] (default 0.75, as A1111; diffusers uses 0.3)
Sampling:
      --steps N            denoising steps (default 28, at most 1000)
      --cfg X              classifier-free guidance scale (default 5)
      --sampler NAME       euler_a (default), euler, dpmpp_2m, dpmpp_2m_sde, ddim, lms, heun
      --schedule NAME      karras, exponential, trailing, linspace, leading (diffusers spacings),
                           normal, simple, sgm_uniform (ComfyUI's); default: the sampler's own
      --seed N             random seed (default or -1: random; always printed)
      --rng NAME           noise generator: torch-cpu (torch.Generator("cpu"), the only one so far)
      --compat MODE        gosdxl (default: A1111 prompt syntax, chunking, seed+i per image) or
                           diffusers (exactly StableDiffusionXL(Img2Img)Pipeline: 77 tokens, batched noise)
Model and device:
      --model PATH         checkpoint file or diffusers folder (default: Animagine XL 4.0 in the user
                           data folder, ~/.local/share/gosdxl/weights on Linux, downloaded when missing;
                           ./weights/animagine-xl-4.0.safetensors instead when that file exists)
      --device D           auto (default), cpu or cuda
` + precisionUsage + `Output:
      --out FILE|DIR       output PNG (default out/<seed>.png; DIR/<seed>.png for a folder);
                           never overwritten: -1, -2, ... are added
      --overwrite          replace existing files instead (only once the new file is complete)
      --dump DIR           write intermediate tensors (conditioning, latents, image) as safetensors
      --from FILE          regenerate a PNG from its metadata; flags given explicitly override it
      --from-strict        refuse a --from PNG with settings gen does not reproduce (default: warn)
  -q, --quiet              no progress bar
Other:
      --version            print the version
  gen help                 this text
`

// parseOptions reads the generation flags. Errors are usage errors (exit
// status 2) naming the flag.
func parseOptions(args []string, w io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}, spelled: spellings(args), fromField: map[string]string{}}
	fs := newFlagSet(o, io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, usageText)
			return nil, err
		}
		return nil, usageError{flagError(err, o.spelled)}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (a prompt goes after -p)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		name := f.Name
		if long, ok := aliases[name]; ok {
			name = long
		}
		o.set[name] = true
	})
	if o.from != "" {
		if err := applyFrom(o); err != nil {
			return nil, err
		}
		if err := o.reportFrom(w, fromIssues(o.fromParams)); err != nil {
			return nil, err
		}
	}
	return o, o.validate(w)
}

// validate checks every value, in flag order, and warns about legal but
// unusual ones. Messages name each flag as the user gave it (flagName).
func (o *options) validate(warn io.Writer) error {
	if strings.TrimSpace(o.prompt) == "" && !o.set["prompt"] {
		return usagef("no prompt: give one with -p \"...\" (see gen -h)")
	}
	o.hires.procW, o.hires.procH = o.width, o.height // as given, for "only masked"
	if o.initImage != "" {
		if err := o.readInitImageSize(warn); err != nil {
			return err
		}
	}
	switch o.device {
	case "auto", "cpu", "cuda":
	default:
		return usagef("%s %q: must be auto, cpu or cuda", o.flagName("device"), o.device)
	}
	if err := o.checkVAEPrecision(); err != nil {
		return err
	}
	switch o.compat {
	case "gosdxl", "diffusers":
	default:
		return usagef("%s %q: must be gosdxl or diffusers", o.flagName("compat"), o.compat)
	}
	switch o.promptSyntax {
	case "a1111", "none":
	default:
		return usagef("%s %q: must be a1111 or none", o.flagName("prompt-syntax"), o.promptSyntax)
	}
	if o.rng != "torch-cpu" {
		return usagef("%s %q: only torch-cpu is available", o.flagName("rng"), o.rng)
	}
	if o.set["strength"] && o.initImage == "" {
		return usagef("%s needs --init-image", o.flagName("strength"))
	}
	if err := o.validateHires(); err != nil {
		return err
	}
	// Sizes, steps, cfg, sampler and schedule, batch, strength, memory,
	// prompts, the hires fix, inpainting and the VAE tiling: the
	// pipeline's rules, with flag names.
	if err := o.checkRequest(); err != nil {
		return err
	}
	if o.initImage == "" && !isSDXLResolution(o.width, o.height) {
		fmt.Fprintf(warn, "gen: warning: %dx%d is not one of the SDXL training resolutions (%s); expect weaker images\n",
			o.width, o.height, sdxlResolutionList())
	}
	o.warnPrompts(warn)
	return nil
}

// SDXL was trained on these sizes (about one megapixel, multiples of 64).
var sdxlResolutions = [][2]int{
	{1024, 1024}, {1152, 896}, {896, 1152}, {1216, 832}, {832, 1216},
	{1344, 768}, {768, 1344}, {1536, 640}, {640, 1536},
}

func isSDXLResolution(w, h int) bool {
	for _, r := range sdxlResolutions {
		if r[0] == w && r[1] == h {
			return true
		}
	}
	return false
}

func sdxlResolutionList() string {
	s := make([]string, len(sdxlResolutions))
	for i, r := range sdxlResolutions {
		s[i] = fmt.Sprintf("%dx%d", r[0], r[1])
	}
	return strings.Join(s, ", ")
}
