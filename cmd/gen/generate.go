package main

import (
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gosdxl/gosdxl/internal/atomicfile"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// runGenerate is `gen [flags]`: parse, check everything the user gave
// (values, bounds, paths, the init image) before any heavy work, load the
// model, generate, save the PNGs.
func runGenerate(args []string) error {
	o, err := parseOptions(args, stderr)
	if isHelp(err) {
		return nil
	}
	if err != nil {
		return err
	}
	// The init image and the mask first: a mask that does not fit, or
	// selects nothing (the input is then the answer), needs no model.
	var initImage image.Image
	if o.initImage != "" {
		if initImage, err = o.loadInitImage(); err != nil {
			return err
		}
	}
	mask, done, err := o.inpaintPrecheck(initImage)
	if done || err != nil {
		return err
	}
	if err := o.preflight(); err != nil {
		return err
	}
	ad, err := prepareAdapters(o)
	if err != nil {
		return err
	}
	defer ad.close()
	// The device first: a machine that cannot run the request should say
	// so before a 7 GB download or hash.
	backend, closeBackend, err := openBackend(o.device, o.quiet)
	if err != nil {
		return usageError{err.Error()}
	}
	defer closeBackend()
	defer o.reportMemory() // before closeBackend: it reads the backend's pool
	o.hires.backend = backend
	precision, err := o.loadPrecision(backend)
	if err != nil {
		return err
	}
	if err := ensureModel(o); err != nil {
		return err
	}
	if !o.seed.set {
		o.seed = optionalUint{uint64(rand.Uint32()), true} // A1111 draws seeds below 2³²
	}
	fmt.Fprintf(stderr, "seed: %d\n", o.seed.value)

	// Load before hashing: a file that is not a usable checkpoint is
	// refused without reading all of it.
	start := time.Now()
	o.phase("loading %s", o.model)
	loadBar := newProgressBar(stderr, "loading", o.quiet)
	loadBar.unit = "tensors"
	model, err := sdxl.LoadModelWith(o.model, backend, sdxl.LoadOptions{Precision: precision, Progress: func(done, total int) {
		loadBar.update(int64(done), int64(total))
	}})
	loadBar.finish()
	if err != nil {
		return usagef("%s %s: %v", o.flagName("model"), o.model, err)
	}
	defer model.Close()
	atomicfile.StallPoint("load")
	o.phase("loaded %s on %s in %.1fs", o.model, backend.Name(), time.Since(start).Seconds())
	if o.hires.verbose && !tensor.OnHost(backend) {
		// What the GPU will hold at its peak, from the model's own calls
		// counted at this size (sdxl.PlanMemory).
		if plan, err := model.PlanMemory(o.width, o.height, o.batch, kernels.SizeClass); err == nil {
			fmt.Fprintf(stderr, "gen: planned device memory for %dx%d: %v\n", o.width, o.height, plan)
		}
	}
	modelHash, err := modelHash(o.model, o.quiet)
	if err != nil {
		return usagef("%s %s: %v", o.flagName("model"), o.model, err)
	}
	if err := o.checkFromModelHash(modelHash); err != nil {
		return err
	}

	if err := ad.apply(model, stderr, o.quiet); err != nil {
		return err
	}
	req := o.request()
	req.Prompt = ad.prompt
	req.InitImage = initImage
	if initImage != nil {
		o.phase("encoding the prompt and the init image")
	} else {
		o.phase("encoding the prompt")
	}
	o.extendRequest(&req, mask)
	switch {
	case strings.EqualFold(o.hires.maxMemory, "none"):
		req.MaxMemory = -1 // no budget, on any device
	case strings.EqualFold(o.hires.maxMemory, "auto") && !tensor.OnHost(backend):
		// On a GPU, "auto" is the device's free memory, which the pipeline
		// reads when it plans each VAE call (sdxl.Request.MaxMemory 0).
		req.MaxMemory = 0
	}
	writeDump := o.startDump(&req)
	bar := newProgressBar(stderr, "sampling", o.quiet)
	req.OnStep = func(step, total int) {
		atomicfile.StallPoint("sampling")
		bar.update(int64(step), int64(total))
		if step == total {
			bar.finish()
			o.phase("decoding %d image(s)", o.batch)
		}
	}
	res, err := model.Generate(req)
	bar.finish()
	if err != nil {
		return err
	}
	if err := writeDump(); err != nil {
		return err
	}
	return saveImages(o, &req, res, modelHash)
}

// phase reports the start (or end) of a long phase on stderr unless -q.
func (o *options) phase(format string, args ...any) {
	if !o.quiet {
		fmt.Fprintf(stderr, "gen: "+format+"\n", args...)
	}
}

// request turns options into a pipeline request.
func (o *options) request() sdxl.Request {
	syntax := prompt.SyntaxA1111
	if o.promptSyntax == "none" || o.compat == "diffusers" {
		syntax = prompt.SyntaxNone
	}
	compat := sdxl.CompatGosdxl
	if o.compat == "diffusers" {
		compat = sdxl.CompatDiffusers
	}
	return sdxl.Request{
		Prompt:      o.prompt,
		Negative:    o.negative.value,
		HasNegative: o.negative.set,
		Width:       o.width,
		Height:      o.height,
		Steps:       o.steps,
		CFGScale:    o.cfg,
		Sampler:     o.sampler,
		Schedule:    o.schedule,
		Seed:        o.seed.value,
		Batch:       o.batch,
		Strength:    o.strength,
		Compat:      compat,
		Syntax:      syntax,
	}
}

// ensureModel makes sure the checkpoint exists, downloading the default
// one when it is missing.
func ensureModel(o *options) error {
	if _, err := os.Stat(o.model); err == nil {
		return checkModelPath(o)
	} else if !os.IsNotExist(err) {
		return usagef("%s %s: %v", o.flagName("model"), o.model, err)
	}
	if o.model != defaultModel || o.set["model"] {
		return usagef("%s %s: no such file or folder", o.flagName("model"), o.model)
	}
	fmt.Fprintf(stderr, "gen: %s is missing; downloading it (gen pull does this alone)\n", defaultModel)
	return pull(weights.DefaultCheckpointURL, defaultModel, o.quiet)
}

// modelHash is A1111's "Model hash": the first 10 hex digits of the
// checkpoint file's SHA-256 (empty for a diffusers folder, which has no
// single file to hash). Hashing a large file unseen shows progress.
func modelHash(path string, quiet bool) (string, error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return "", err
	}
	if h, ok := weights.CachedSHA256(path); ok {
		return h[:10], nil
	}
	if !quiet {
		fmt.Fprintf(stderr, "gen: hashing %s (%.1f GB, once: the hash is cached)\n", path, float64(st.Size())/1e9)
	}
	bar := newProgressBar(stderr, "hashing", quiet)
	bar.unit, bar.scale = "MB", 1<<20
	h, err := weights.FileSHA256Progress(path, bar.update)
	bar.finish()
	if err != nil {
		return "", err
	}
	return h[:10], nil
}

// saveImages writes each image with its own parameters and prints the
// file names on stdout.
func saveImages(o *options, req *sdxl.Request, res *sdxl.Result, hash string) error {
	samplerDisplay, scheduleDisplay := displayNames(o.sampler, o.schedule)
	paths := o.outputPaths(res.Seeds)
	for i, img := range res.Images {
		p := infotext.Parameters{
			Prompt:       o.prompt,
			Steps:        o.steps,
			Sampler:      samplerDisplay,
			ScheduleType: scheduleDisplay,
			CFGScale:     o.cfg,
			Seed:         res.Seeds[i],
			Width:        res.Width,
			Height:       res.Height,
			ModelHash:    hash,
			Model:        strings.TrimSuffix(filepath.Base(o.model), filepath.Ext(o.model)),
			RNG:          "CPU",
		}
		p.Extra = append(p.Extra, o.adapters.fields...)
		if o.negative.set {
			p.Negative = o.negative.value
			if p.Negative == "" {
				// An empty negative prompt leaves no line in the infotext,
				// like none at all; but "" is encoded, none is zeros.
				p.Extra = append(p.Extra, infotext.Field{Key: fieldEmptyNegative, Value: "encoded"})
			}
		}
		if s, _ := scheduleFromA1111(scheduleDisplay); s != o.schedule {
			// The display name is shared ("Uniform"): keep the exact one.
			p.Extra = append(p.Extra, infotext.Field{Key: fieldSchedule, Value: o.schedule})
		}
		if o.initImage != "" {
			p.DenoisingStrength = o.strength
		}
		o.hiresParams(&p, req)
		if o.compat != "gosdxl" {
			p.Extra = append(p.Extra, infotext.Field{Key: fieldCompat, Value: o.compat})
		}
		if o.promptSyntax != "a1111" {
			p.Extra = append(p.Extra, infotext.Field{Key: fieldPromptSyntax, Value: o.promptSyntax})
		}
		if o.compat == "diffusers" && len(res.Images) > 1 {
			// Batched noise: image i only reproduces with the whole batch.
			p.Extra = append(p.Extra,
				infotext.Field{Key: fieldBatchSize, Value: strconv.Itoa(len(res.Images))},
				infotext.Field{Key: fieldBatchPos, Value: strconv.Itoa(i)})
		}
		name, err := writePNG(paths[i], img, p.String(), o.overwrite)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, name)
	}
	return nil
}
