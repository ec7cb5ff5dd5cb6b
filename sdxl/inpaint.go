package sdxl

import (
	"errors"
	"fmt"
	"image"

	"github.com/gosdxl/gosdxl/resample"
)

// Inpaint repaints the masked part of Request.InitImage with a standard
// (4-channel) checkpoint, as diffusers' StableDiffusionXLInpaintPipeline
// does for such a UNet: the image is encoded and noised as for img2img,
// and after every step the latents outside the mask are replaced by the
// original's latents re-noised to the next step's level
//
//	x ← (1 − m)·add_noise(init, noise, t_{i+1}) + m·x   (the original itself after the last step)
//
// with m the mask binarised at ½ and reduced to the latent grid by
// nearest-neighbour. Around that, A1111's options: mask blur, "only masked"
// (inpaint a crop of the masked area at the full processing size and
// paste it back), the masked-content modes, outpainting by padding, and
// the final overlay that keeps every pixel outside the (blurred) mask
// exactly as it was.
type Inpaint struct {
	// Mask marks the area to repaint: white, or opaque where the mask image
	// has transparency (A1111's create_binary_mask); same size as the init
	// image. TransparencyMask turns an init image's alpha into one.
	Mask image.Image
	// MaskBlur is A1111's "Mask blur", the σ in pixels of the Gaussian
	// applied to the binary mask (0 = none).
	MaskBlur int
	// FullRes is A1111's "Inpaint area: Only masked": the mask's bounding
	// box grown by Padding pixels ("Masked area padding") and to the aspect
	// of Request.Width×Height is cut out, resized to Width×Height,
	// inpainted, and pasted back.
	FullRes bool
	Padding int
	Content MaskedContent
	// Pad extends the init image by left, top, right, bottom pixels
	// (multiples of 8), repeating its edges, and adds the new area to the
	// mask: outpainting.
	Pad [4]int
}

// MaskedContent is A1111's "Masked content": what the masked area starts
// from.
type MaskedContent int

const (
	ContentOriginal      MaskedContent = iota // the init image as it is
	ContentFill                               // the surrounding colours, blurred in (masking.fill)
	ContentLatentNoise                        // unit noise in the latents
	ContentLatentNothing                      // zero latents
)

// MaskedContentNames are A1111's names, as its infotext writes them.
var MaskedContentNames = []string{"original", "fill", "latent noise", "latent nothing"}

func (c MaskedContent) String() string {
	if c >= 0 && int(c) < len(MaskedContentNames) {
		return MaskedContentNames[c]
	}
	return fmt.Sprintf("MaskedContent(%d)", int(c))
}

// ErrEmptyMask is returned (wrapped) when the mask selects nothing: there
// is nothing to repaint, and the input is the answer.
var ErrEmptyMask = errors.New("the mask is empty: nothing to repaint")

// inpaintPlan is the image work around the sampling: what is generated,
// at which size, and how it goes back into the original.
type inpaintPlan struct {
	orig    rgb8  // the (padded) init image: the output's size
	overlay gray8 // where the result shows through (255) or the original stays (0)
	proc    rgb8  // the image the pipeline encodes
	mask    gray8 // its mask at the processing size (blurred)
	crop    [4]int
	cropped bool
}

func planInpaint(r *Request) (*inpaintPlan, error) {
	ip := r.Inpaint
	orig := rgbOf(r.InitImage)
	mask := binaryMask(ip.Mask)
	if ip.Pad != [4]int{} {
		orig, mask = padImage(orig, mask, ip.Pad[0], ip.Pad[1], ip.Pad[2], ip.Pad[3])
	}
	switch n := mask.count(); {
	case n == 0:
		return nil, ErrEmptyMask
	case n == len(mask.pix) && ip.Content == ContentFill:
		return nil, fmt.Errorf("the mask covers the whole image: masked content \"fill\" has no surrounding colours (use img2img, without a mask)")
	case n == len(mask.pix):
		return nil, fmt.Errorf("the mask covers the whole image: nothing is kept (use img2img, without a mask)")
	}
	if orig.w%8 != 0 || orig.h%8 != 0 {
		return nil, fmt.Errorf("image size %dx%d: width and height must be multiples of 8", orig.w, orig.h)
	}
	blurred := mask
	if ip.MaskBlur > 0 {
		s := float64(ip.MaskBlur)
		blurred = gray8{resample.GaussianBlur8(mask.pix, mask.w, mask.h, s, s), mask.w, mask.h}
	}
	p := &inpaintPlan{orig: orig, proc: orig, mask: blurred}
	if !ip.FullRes {
		// A1111 doubles the blurred mask for the overlay, so the result
		// shows fully up to about the unblurred edge.
		p.overlay = gray8{make([]uint8, len(blurred.pix)), blurred.w, blurred.h}
		for i, v := range blurred.pix {
			p.overlay.pix[i] = uint8(min(2*int(v), 255))
		}
		return p, nil
	}
	x1, y1, x2, y2, ok := cropRegion(blurred, ip.Padding, r.Width, r.Height)
	if !ok {
		return nil, ErrEmptyMask
	}
	var err error
	p.overlay, p.crop, p.cropped = blurred, [4]int{x1, y1, x2, y2}, true
	// The crop has (nearly) the processing aspect already; A1111's "resize
	// and fill" reduces to a Lanczos resize then.
	if p.proc, err = orig.crop(x1, y1, x2, y2).resize(r.Width, r.Height); err != nil {
		return nil, err
	}
	if p.mask, err = blurred.crop(x1, y1, x2, y2).resize(r.Width, r.Height); err != nil {
		return nil, err
	}
	return p, nil
}

// latentMask is diffusers' mask for the latents: the processing mask
// binarised at ½ (mask/255 ≥ 0.5) and reduced by torch's nearest
// interpolate, which picks pixel (8i, 8j) of latent (i, j).
func latentMask(m gray8, h, w int) ([]float32, error) {
	bin := make([]float32, len(m.pix))
	for i, v := range m.pix {
		if float32(v)/255 >= 0.5 {
			bin[i] = 1
		}
	}
	return resample.Interpolate(bin, 1, m.h, m.w, h, w, resample.Nearest, false)
}

// inpaint runs an inpainting request (Generate calls it).
func (m *Model) inpaint(r Request) (*Result, error) {
	plan, err := planInpaint(&r)
	if err != nil {
		return nil, err
	}
	ip := r.Inpaint
	if ip.Content == ContentFill {
		plan.proc = fillMasked(plan.proc, plan.mask)
	}
	f := m.vae.Factor()
	W, H := plan.proc.w, plan.proc.h
	shape := latentShape{b: r.Batch, c: m.cfg.UNet.InChannels, h: H / f, w: W / f}
	lmask, err := latentMask(plan.mask, shape.h, shape.w)
	if err != nil {
		return nil, err
	}
	info, sched, err := newSchedule(&r)
	if err != nil {
		return nil, err
	}
	cond, err := m.conditioning(&r, W, H)
	if err != nil {
		return nil, err
	}
	seeds, randn, err := noiseSource(r)
	if err != nil {
		return nil, err
	}
	init, err := m.inpaintLatents(&r, plan.proc, shape, randn, lmask)
	if err != nil {
		return nil, err
	}
	noise := randn(shape.size())
	r.observe("sampling", "init_latents", shape.dims(), init)
	r.observe("sampling", "noise", shape.dims(), noise)
	r.observe("sampling", "latent_mask", []int{1, 1, shape.h, shape.w}, lmask)
	var x []float32
	if r.Strength >= 1 {
		// diffusers starts from pure noise at full strength.
		x = sched.StartLatents(noise)
	} else if x, err = sched.Img2ImgStart(init, noise); err != nil {
		return nil, err
	}
	last := sched.Steps() - 1
	after := func(i int, x []float32, sigmaNext float64) {
		blendStep(x, init, noise, lmask, i < last, sigmaNext)
	}
	latents, err := m.sampleLatents(&r, info, sched, x, cond, shape, randn, after, nil, "sampling")
	stopped, err := stopCause(err)
	if err != nil {
		return nil, err
	}
	if stopped != nil {
		// A kept early stop: outside the mask the original's latents, as
		// after the last step.
		blendStep(latents, init, noise, lmask, false, 0)
	}
	decoded, err := m.decodeLatents(&r, latents, shape)
	if err != nil {
		return nil, err
	}
	res := &Result{Seeds: seeds, Width: plan.orig.w, Height: plan.orig.h, Stopped: stopped}
	per := 3 * H * W
	for i := 0; i < shape.b; i++ {
		img01 := make([]float32, per)
		for j, v := range decoded[i*per : (i+1)*per] {
			img01[j] = clamp01(v/2 + 0.5)
		}
		gen := rgbOf(Pixels8(img01, H, W))
		full := gen
		if plan.cropped {
			c := plan.crop
			small, err := gen.resize(c[2]-c[0], c[3]-c[1])
			if err != nil {
				return nil, err
			}
			full = plan.orig.paste(small, c[0], c[1])
		}
		res.Images = append(res.Images, composite(plan.orig, full, plan.overlay).nrgba())
	}
	return res, nil
}

// blendStep is diffusers' per-step blending for a 4-channel UNet, on the
// sampler's k-diffusion latents x at σ sigmaNext: outside the mask (m = 0)
// x becomes the original latents plus the run's noise at that σ
// (scheduler.add_noise: init + noise·σ in float32), or the original
// latents themselves after the last step; inside, x is kept. The mask is
// binary, so (1 − m)·a + m·b is exactly a or b.
func blendStep(x, init, noise, mask []float32, renoise bool, sigmaNext float64) {
	plane := len(mask)
	s := float32(sigmaNext)
	for j := range x {
		if mask[j%plane] != 0 {
			continue
		}
		if renoise {
			x[j] = init[j] + float32(noise[j]*s)
		} else {
			x[j] = init[j]
		}
	}
}

// inpaintLatents encodes the processing image and samples the posterior
// (the run's first draw, as diffusers' prepare_latents), then applies the
// latent masked-content modes inside the mask: A1111's "latent noise"
// (unit noise from fresh generators seeded like the run) or "latent
// nothing" (zeros).
func (m *Model) inpaintLatents(r *Request, proc rgb8, s latentShape, randn func(int) []float32, lmask []float32) ([]float32, error) {
	signed := ImageToSigned(proc.nrgba())
	mean, std, err := m.encodeImage(r, signed, proc.h, proc.w)
	if err != nil {
		return nil, err
	}
	n := len(mean)
	draws := 1
	if r.Compat != CompatDiffusers {
		draws = s.b
	}
	eps := randn(n * draws)
	init := make([]float32, s.size())
	for i := range init {
		j := i % n
		e := eps[(i/n%draws)*n+j]
		init[i] = (mean[j] + std[j]*e) * VAEScale
	}
	switch r.Inpaint.Content {
	case ContentLatentNoise:
		_, fresh, err := noiseSource(*r)
		if err != nil {
			return nil, err
		}
		z := fresh(s.size())
		for i := range init {
			if lmask[i%len(lmask)] != 0 {
				init[i] = z[i]
			}
		}
	case ContentLatentNothing:
		for i := range init {
			if lmask[i%len(lmask)] != 0 {
				init[i] = 0
			}
		}
	}
	return init, nil
}
