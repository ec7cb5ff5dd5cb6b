package main

import (
	"flag"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
)

// Flags of the hires fix, inpainting, the tiled VAE and the memory budget.
// Defaults are A1111's UI defaults.
type hiresOptions struct {
	hiresScale    float64
	hiresWidth    int
	hiresHeight   int
	hiresUpscaler string
	hiresSteps    int
	hiresDenoise  float64
	hiresCFG      float64
	hiresSampler  string
	hiresSchedule string

	mask           string
	maskBlur       int
	inpaintFullRes bool
	inpaintPadding int
	maskedContent  string
	pad            string

	vaeTiling   string
	vaeTileSize int
	maxMemory   string
	verbose     bool

	// Filled by validateHires.
	hires    bool
	upscaler sdxl.HiresUpscaler
	content  sdxl.MaskedContent
	pads     [4]int
	budget   int64
	procW    int // the inpainting processing size: --width/--height as
	procH    int // given (validate), or the init image's (validateHires)
	tileUsed int // the VAE tile size the run used (0: untiled)
	backend  any // for the device's memory peak in reportMemory
}

const usageHires = `Hires fix (txt2img; on when --hires-scale, --hires-width or --hires-height is given):
      --hires-scale X      upscale the first pass by X ≥ 1 (default 2)
      --hires-width N, --hires-height N
                           upscale to this size instead (one of them keeps the aspect)
      --hires-upscaler U   latent (bilinear, A1111's "Latent"; default), latent-antialiased, latent-bicubic,
                           latent-bicubic-antialiased, latent-nearest, latent-nearest-exact, lanczos, nearest,
                           none (one Lanczos resize, A1111's "None")
      --hires-steps N      steps of the second pass (default 0: as the first)
      --hires-denoise X    denoising strength of the second pass, in (0, 1] (default 0.7)
      --hires-cfg X, --hires-sampler NAME, --hires-schedule NAME
                           the second pass's, when not the first pass's
Inpainting (with --init-image):
      --mask FILE|alpha    white = repaint (PNG/JPEG, grey levels; a mask with transparency uses its alpha);
                           "alpha": the init image's transparent pixels
      --mask-blur N        Gaussian blur of the mask in pixels (default 4)
      --inpaint-full-res   repaint only the masked area, cut out at --width x --height ("Only masked")
      --inpaint-padding N  pixels around the masked area with --inpaint-full-res (default 32)
      --masked-content M   original (default), fill, latent-noise, latent-nothing
      --pad L,T,R,B        outpaint: extend the image by these pixels (multiples of 8)
Memory:
      --vae-tiling M       auto (default: tile when the VAE would exceed --max-memory), on, off
      --vae-tile-size N    VAE tile size in pixels, a multiple of 32 (default 1024, diffusers')
      --max-memory SIZE    memory one VAE call may use, e.g. 4G, 512M; auto (default: the
                           available system memory) or none
  -v, --verbose            say how the run is planned, and the peak memory at the end
`

func registerHiresFlags(fs *flag.FlagSet, h *hiresOptions) {
	fs.Float64Var(&h.hiresScale, "hires-scale", 2, "")
	fs.IntVar(&h.hiresWidth, "hires-width", 0, "")
	fs.IntVar(&h.hiresHeight, "hires-height", 0, "")
	fs.StringVar(&h.hiresUpscaler, "hires-upscaler", "latent", "")
	fs.IntVar(&h.hiresSteps, "hires-steps", 0, "")
	fs.Float64Var(&h.hiresDenoise, "hires-denoise", 0.7, "")
	fs.Float64Var(&h.hiresCFG, "hires-cfg", 0, "")
	fs.StringVar(&h.hiresSampler, "hires-sampler", "", "")
	fs.StringVar(&h.hiresSchedule, "hires-schedule", "", "")
	fs.StringVar(&h.mask, "mask", "", "")
	fs.IntVar(&h.maskBlur, "mask-blur", 4, "")
	fs.BoolVar(&h.inpaintFullRes, "inpaint-full-res", false, "")
	fs.IntVar(&h.inpaintPadding, "inpaint-padding", 32, "")
	fs.StringVar(&h.maskedContent, "masked-content", "original", "")
	fs.StringVar(&h.pad, "pad", "", "")
	fs.StringVar(&h.vaeTiling, "vae-tiling", "auto", "")
	fs.IntVar(&h.vaeTileSize, "vae-tile-size", sdxl.DefaultVAETileSize, "")
	fs.StringVar(&h.maxMemory, "max-memory", "auto", "")
	fs.BoolVar(&h.verbose, "verbose", false, "")
	fs.BoolVar(&h.verbose, "v", false, "")
}

func init() { aliases["v"] = "verbose" }

// validateHires reads the flags of this file into the values of the
// request (called by validate, before checkRequest): which flags need
// which, and the names and numbers typed. The rules the values must keep
// are the pipeline's (sdxl.Request.Validate), checked with the rest of the
// request by checkRequest, which names these flags.
func (o *options) validateHires() error {
	h := &o.hires
	h.hires = o.set["hires-scale"] || o.set["hires-width"] || o.set["hires-height"]
	for _, name := range []string{"hires-upscaler", "hires-steps", "hires-denoise", "hires-cfg", "hires-sampler", "hires-schedule"} {
		if o.set[name] && !h.hires {
			return usagef("--%s needs --hires-scale, --hires-width or --hires-height", name)
		}
	}
	if h.hires {
		// A name no upscaler has is passed on as it is: the pipeline's
		// rules list the valid ones.
		u, ok := sdxl.LookupHiresUpscaler(h.hiresUpscaler)
		if !ok {
			u = sdxl.HiresUpscaler{Name: h.hiresUpscaler}
		}
		h.upscaler = u
	}
	inpaint := h.mask != "" || h.pad != ""
	for _, name := range []string{"mask-blur", "inpaint-full-res", "inpaint-padding", "masked-content"} {
		if o.set[name] && !inpaint {
			return usagef("--%s needs --mask (or --pad)", name)
		}
	}
	if inpaint && o.initImage == "" {
		return usagef("--mask and --pad need --init-image")
	}
	found := false
	names := make([]string, len(sdxl.MaskedContentNames))
	for i, n := range sdxl.MaskedContentNames {
		names[i] = strings.ReplaceAll(n, " ", "-")
		if names[i] == h.maskedContent {
			h.content, found = sdxl.MaskedContent(i), true
		}
	}
	if !found {
		return usagef("%s %q: unknown; valid: %s", o.flagName("masked-content"), h.maskedContent, strings.Join(names, ", "))
	}
	if h.pad != "" {
		parts := strings.Split(h.pad, ",")
		if len(parts) != 4 {
			return usagef("%s %q: give four numbers L,T,R,B", o.flagName("pad"), h.pad)
		}
		for i, p := range parts {
			v, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return usagef("%s %q: %q is not a whole number", o.flagName("pad"), h.pad, p)
			}
			h.pads[i] = v
		}
	}
	if inpaint && (!o.set["width"] || !o.set["height"]) {
		// "Only masked" works at the image's own size unless told.
		h.procW, h.procH = o.width, o.height
	}
	switch h.vaeTiling {
	case "auto", "on", "off":
	default:
		return usagef("%s %q: must be auto, on or off", o.flagName("vae-tiling"), h.vaeTiling)
	}
	budget, err := parseMemory(h.maxMemory)
	if err != nil {
		return usagef("%s %q: %v", o.flagName("max-memory"), h.maxMemory, err)
	}
	h.budget = budget
	return nil
}

// parseMemory reads a byte count: a number with an optional K, M, G or T
// (powers of 1024; a plain number is MiB), "auto" for the available
// system memory, "none" for no budget.
func parseMemory(s string) (int64, error) {
	switch strings.ToLower(s) {
	case "none":
		return 0, nil
	case "auto":
		return availableMemory(), nil
	}
	mult := int64(1 << 20)
	num := strings.TrimSuffix(strings.ToUpper(s), "B")
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40} {
		if rest, ok := strings.CutSuffix(num, suffix); ok {
			num, mult = rest, m
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("not a size (examples: 4G, 512M, auto, none)")
	}
	return int64(v * float64(mult)), nil
}

// request is the sdxl.Hires of the hires flags.
func (h *hiresOptions) request() *sdxl.Hires {
	return &sdxl.Hires{
		Scale: h.hiresScale, Width: h.hiresWidth, Height: h.hiresHeight, Upscaler: h.upscaler,
		Steps: h.hiresSteps, Denoise: h.hiresDenoise, CFGScale: h.hiresCFG,
		Sampler: h.hiresSampler, Schedule: h.hiresSchedule,
	}
}

// inpaintPrecheck reads the mask before any heavy work. An empty mask
// (and no padding) leaves nothing to repaint: it says so, copies the init
// image to the output and reports done.
func (o *options) inpaintPrecheck(initImage image.Image) (mask image.Image, done bool, err error) {
	h := &o.hires
	if h.mask == "" && h.pad == "" {
		return nil, false, nil
	}
	b := initImage.Bounds()
	switch {
	case h.mask == "alpha":
		if mask = sdxl.TransparencyMask(initImage); mask == nil {
			mask = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		}
	case h.mask != "":
		if mask, err = sdxl.LoadImage(h.mask); err != nil {
			return nil, false, usagef("--mask: %v", err)
		}
		// The mask belongs to the init image as given; when that was
		// resized to the output size, the mask follows (as A1111 does).
		mb := mask.Bounds()
		if mb.Dx() != o.initWidth || mb.Dy() != o.initHeight {
			return nil, false, usagef("--mask %s: size %dx%d differs from --init-image's %dx%d", h.mask, mb.Dx(), mb.Dy(), o.initWidth, o.initHeight)
		}
		if mb.Dx() != b.Dx() || mb.Dy() != b.Dy() {
			if mask, err = resizeLanczos(mask, b.Dx(), b.Dy()); err != nil {
				return nil, false, usagef("--mask %s: resizing to %dx%d: %v", h.mask, b.Dx(), b.Dy(), err)
			}
		}
	default: // --pad alone
		mask = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	}
	if h.pads != [4]int{} {
		return mask, false, nil
	}
	selected, total := sdxl.MaskCoverage(mask)
	switch {
	case selected == 0:
		out := o.out
		if out == "" {
			out = filepath.Join("out", strings.TrimSuffix(filepath.Base(o.initImage), filepath.Ext(o.initImage))+".png")
		}
		name, err := writePNG(out, initImage, "", o.overwrite)
		if err != nil {
			return nil, false, err
		}
		fmt.Fprintf(stderr, "gen: the mask %s selects nothing to repaint; copied the init image unchanged\n", h.mask)
		fmt.Fprintln(stdout, name)
		return nil, true, nil
	case selected == total:
		return nil, false, usagef("--mask %s: the mask covers the whole image, so nothing is kept; use img2img (--init-image without --mask)", h.mask)
	}
	return mask, false, nil
}

// modeRequest adds the hires fix, inpainting with mask (when not nil)
// and the VAE tiling to req: what checkRequest validates and the run uses.
func (o *options) modeRequest(req *sdxl.Request, mask image.Image) {
	h := &o.hires
	if h.hires {
		req.Hires = h.request()
	}
	if mask != nil {
		req.Inpaint = &sdxl.Inpaint{Mask: mask, MaskBlur: h.maskBlur, FullRes: h.inpaintFullRes,
			Padding: h.inpaintPadding, Content: h.content, Pad: h.pads}
		req.Width, req.Height = h.procW, h.procH
	}
	req.VAETiling = map[string]sdxl.VAETiling{"auto": sdxl.TilingAuto, "on": sdxl.TilingOn, "off": sdxl.TilingOff}[h.vaeTiling]
	req.VAETileSize = h.vaeTileSize
}

// extendRequest adds the hires, inpainting and memory settings to req.
func (o *options) extendRequest(req *sdxl.Request, mask image.Image) {
	h := &o.hires
	o.modeRequest(req, mask)
	req.MaxMemory = h.budget
	req.VAETileUsed = &h.tileUsed
	if h.verbose {
		req.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, "gen: "+format+"\n", args...) }
		req.Logf("memory budget for one VAE call: %s", formatMiB(h.budget))
	}
}

// Our own infotext fields for these modes, beside A1111's.
const (
	fieldMask      = infotext.FieldMask
	fieldPad       = infotext.FieldPad
	fieldVAETiling = infotext.FieldVAETiling
)

// hiresParams adds the fields of the hires fix, inpainting and the tiled
// VAE of req, the request the image was made with.
func (o *options) hiresParams(p *infotext.Parameters, req *sdxl.Request) {
	mask := "none"
	if o.hires.mask != "" {
		mask = filepath.Base(o.hires.mask)
	}
	p.AddModeFields(req, mask, o.hires.pad != "")
}

// applyFromHires reads the fields of this file back for --from. It
// returns true when the image was a hires fix (its "Denoising strength"
// is then the second pass's, not an img2img strength).
func applyFromHires(o *options, p *infotext.Parameters) (hires bool, err error) {
	h := &o.hires
	keep := func(name string) bool { return o.set[name] }
	get := func(k string) (string, bool) { return p.Get(k) }
	if v, ok := get("Hires upscale"); ok && !keep("hires-scale") && !keep("hires-width") && !keep("hires-height") {
		if h.hiresScale, err = strconv.ParseFloat(v, 64); err != nil {
			return false, usagef("--from %s: bad Hires upscale %q", o.from, v)
		}
		o.set["hires-scale"], hires = true, true
	}
	if v, ok := get("Hires resize"); ok && !keep("hires-scale") && !keep("hires-width") && !keep("hires-height") {
		if _, err := fmt.Sscanf(v, "%dx%d", &h.hiresWidth, &h.hiresHeight); err != nil {
			return false, usagef("--from %s: bad Hires resize %q", o.from, v)
		}
		o.set["hires-width"], hires = true, true
	}
	if !hires {
		return false, nil
	}
	if !keep("hires-denoise") && p.DenoisingStrength > 0 {
		h.hiresDenoise = p.DenoisingStrength
	}
	if v, ok := get("Hires steps"); ok && !keep("hires-steps") {
		h.hiresSteps, _ = strconv.Atoi(v)
	}
	if v, ok := get("Hires upscaler"); ok && !keep("hires-upscaler") {
		u, found := sdxl.LookupHiresUpscaler(v)
		if !found {
			return false, usagef("--from %s: hires upscaler %q is not one gen has (%s)", o.from, v, strings.Join(sdxl.HiresUpscalerNames(), ", "))
		}
		h.hiresUpscaler = u.Name
	}
	if v, ok := get("Hires sampler"); ok && !keep("hires-sampler") {
		name, _, found := samplerFromA1111(v)
		if !found {
			return false, usagef("--from %s: hires sampler %q is not one gen knows", o.from, v)
		}
		h.hiresSampler = name
	}
	if v, ok := get("Hires schedule name"); ok && !keep("hires-schedule") {
		h.hiresSchedule = v
	} else if v, ok := get("Hires schedule type"); ok && !keep("hires-schedule") {
		h.hiresSchedule, _ = scheduleFromA1111(v)
	}
	if v, ok := get("Hires CFG Scale"); ok && !keep("hires-cfg") {
		h.hiresCFG, _ = strconv.ParseFloat(v, 64)
	}
	return true, nil
}

// applyFromInpaint reads the inpainting fields back; the init image and
// the mask themselves must be given again.
func applyFromInpaint(o *options, p *infotext.Parameters) error {
	h := &o.hires
	mask, ok := p.Get(fieldMask)
	if !ok {
		return nil
	}
	if o.initImage == "" || (mask != "none" && h.mask == "") {
		return usagef("--from %s: the image was inpainted; give its input with --init-image and its mask (%s) with --mask", o.from, mask)
	}
	keep := func(name string) bool { return o.set[name] }
	if !keep("mask-blur") {
		h.maskBlur = 0
		if v, ok := p.Get("Mask blur"); ok {
			h.maskBlur, _ = strconv.Atoi(v)
		}
	}
	if v, ok := p.Get("Inpaint area"); ok && v == "Only masked" && !keep("inpaint-full-res") {
		h.inpaintFullRes = true
		o.set["width"], o.set["height"] = true, true // Size is the processing size
		if v, ok := p.Get("Masked area padding"); ok && !keep("inpaint-padding") {
			h.inpaintPadding, _ = strconv.Atoi(v)
		}
	}
	if v, ok := p.Get("Masked content"); ok && !keep("masked-content") {
		h.maskedContent = strings.ReplaceAll(v, " ", "-")
	}
	if v, ok := p.Get(fieldPad); ok && !keep("pad") {
		h.pad = v
	}
	return nil
}

// applyFromVAE repeats a tiled run's tiling.
func applyFromVAE(o *options, p *infotext.Parameters) {
	if v, ok := p.Get(fieldVAETiling); ok && !o.set["vae-tiling"] && !o.set["vae-tile-size"] {
		if n, err := strconv.Atoi(v); err == nil {
			o.hires.vaeTiling, o.hires.vaeTileSize = "on", n
		}
	}
}

// reportMemory prints the peak resident memory of the process (-v).
func (o *options) reportMemory() {
	if !o.hires.verbose {
		return
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		fmt.Fprintf(stderr, "gen: peak memory (resident): %s\n", formatMiB(ru.Maxrss<<10)) // Linux reports KiB
	}
	if b, ok := o.hires.backend.(interface{ Stats() kernels.PoolStats }); ok {
		fmt.Fprintf(stderr, "gen: %v\n", b.Stats())
	}
	// Whether the denoising steps were replayed from a CUDA graph, and what
	// the device was asked to do in all.
	b, ok := o.hires.backend.(tensor.Backend)
	if c, counts := b.(tensor.Counting); ok && counts && !tensor.OnHost(b) {
		n := c.Counters()
		fmt.Fprintf(stderr, "gen: device work: %d kernels (%d graph replays), %d uploads, %d downloads, %d host waits\n",
			n.Launches, n.GraphLaunches, n.Uploads, n.Downloads, n.Syncs)
	}
}

func formatMiB(n int64) string {
	if n <= 0 {
		return "none"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
