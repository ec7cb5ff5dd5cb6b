package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/weights"
)

// runGenerate is `gen [flags]`: parse, check everything the user gave
// before any heavy work, load the model, generate, save the PNGs.
func runGenerate(args []string) error {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	defer o.reportMemory()
	var initImage image.Image
	if o.initImage != "" {
		img, err := sdxl.LoadImage(o.initImage)
		if err != nil {
			return usagef("--init-image: %v", err)
		}
		b := img.Bounds()
		if b.Dx()%8 != 0 || b.Dy()%8 != 0 {
			return usagef("--init-image %s: size %dx%d is not a multiple of 8 in both directions", o.initImage, b.Dx(), b.Dy())
		}
		initImage = img
		o.width, o.height = b.Dx(), b.Dy()
	}
	mask, done, err := o.inpaintPrecheck(initImage)
	if done || err != nil {
		return err
	}
	// The device first: a machine that cannot run the request should say
	// so before a 7 GB download or hash.
	backend, closeBackend, err := openBackend(o.device, o.quiet)
	if err != nil {
		return usageError{err.Error()}
	}
	defer closeBackend()
	o.hires.backend = backend
	if err := ensureModel(o); err != nil {
		return err
	}
	if !o.seed.set {
		o.seed = optionalUint{uint64(rand.Uint32()), true} // A1111 draws seeds below 2³²
	}
	fmt.Fprintf(stderr, "seed: %d\n", o.seed.value)

	modelHash, err := modelHash(o.model)
	if err != nil {
		return usagef("--model %s: %v", o.model, err)
	}
	start := time.Now()
	model, err := sdxl.LoadModel(o.model, backend)
	if err != nil {
		return usagef("--model %s: %v", o.model, err)
	}
	defer model.Close()
	if !o.quiet {
		fmt.Fprintf(stderr, "loaded %s on %s in %.1fs\n", o.model, backend.Name(), time.Since(start).Seconds())
	}

	req := o.request()
	req.InitImage = initImage
	o.extendRequest(&req, mask)
	bar := newProgressBar(stderr, "sampling", o.quiet)
	req.OnStep = func(step, total int) { bar.update(int64(step), int64(total)) }
	res, err := model.Generate(req)
	bar.finish()
	if err != nil {
		return err
	}
	return saveImages(o, res, modelHash)
}

// request turns options into a pipeline request.
func (o *options) request() sdxl.Request {
	syntax := sdxl.SyntaxA1111
	if o.promptSyntax == "none" || o.compat == "diffusers" {
		syntax = sdxl.SyntaxNone
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
		DumpDir:     o.dump,
	}
}

// ensureModel makes sure the checkpoint exists, downloading the default
// one when it is missing.
func ensureModel(o *options) error {
	if _, err := os.Stat(o.model); err == nil {
		return nil
	} else if !os.IsNotExist(err) {
		return usagef("--model %s: %v", o.model, err)
	}
	if o.model != defaultModel || o.set["model"] {
		return usagef("--model %s: no such file or folder", o.model)
	}
	fmt.Fprintf(stderr, "gen: %s is missing; downloading it (gen pull does this alone)\n", defaultModel)
	return pull(weights.DefaultCheckpointURL, defaultModel, o.quiet)
}

// modelHash is A1111's "Model hash": the first 10 hex digits of the
// checkpoint file's SHA-256 (empty for a diffusers folder, which has no
// single file to hash).
func modelHash(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return "", err
	}
	h, err := weights.FileSHA256(path)
	if err != nil {
		return "", err
	}
	return h[:10], nil
}

// saveImages writes each image with its own parameters and prints the
// file names on stdout.
func saveImages(o *options, res *sdxl.Result, hash string) error {
	samplerDisplay, scheduleDisplay := displayNames(o.sampler, o.schedule)
	paths := outputPaths(o.out, res.Seeds)
	for i, img := range res.Images {
		p := sdxl.Parameters{
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
		if o.negative.set {
			p.Negative = o.negative.value
			if p.Negative == "" {
				// An empty negative prompt leaves no line in the infotext,
				// like none at all; but "" is encoded, none is zeros.
				p.Extra = append(p.Extra, sdxl.Field{Key: fieldEmptyNegative, Value: "encoded"})
			}
		}
		if s, _ := scheduleFromA1111(scheduleDisplay); s != o.schedule {
			// The display name is shared ("Uniform"): keep the exact one.
			p.Extra = append(p.Extra, sdxl.Field{Key: fieldSchedule, Value: o.schedule})
		}
		if o.initImage != "" {
			p.DenoisingStrength = o.strength
		}
		o.hiresParams(&p)
		if o.compat != "gosdxl" {
			p.Extra = append(p.Extra, sdxl.Field{Key: fieldCompat, Value: o.compat})
		}
		if o.promptSyntax != "a1111" {
			p.Extra = append(p.Extra, sdxl.Field{Key: fieldPromptSyntax, Value: o.promptSyntax})
		}
		if o.compat == "diffusers" && len(res.Images) > 1 {
			// Batched noise: image i only reproduces with the whole batch.
			p.Extra = append(p.Extra,
				sdxl.Field{Key: fieldBatchSize, Value: strconv.Itoa(len(res.Images))},
				sdxl.Field{Key: fieldBatchPos, Value: strconv.Itoa(i)})
		}
		name, err := writePNG(paths[i], img, p.String(), o.overwrite)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, name)
	}
	return nil
}
