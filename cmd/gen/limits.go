package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"os"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/kernels"
	"github.com/gosdxl/gosdxl/sdxl"
)

// memoryBudget is the memory a run may use: the budget given (--max-memory),
// or the machine's physical memory when the activations live there (the
// CPU backend), or 0 when neither is known (then only the fixed bounds
// apply: a GPU's memory is not known before its backend opens).
func (o *options) memoryBudget() int64 {
	if o.set["max-memory"] {
		// --max-memory SIZE or auto; none (0) falls through. A bad value
		// was reported by validateHires, which runs before this check.
		if b, err := parseMemory(o.hires.maxMemory); err == nil && b > 0 {
			return b
		}
	}
	if o.device == "cpu" || (o.device == "auto" && !kernels.Available()) {
		return hostMemory()
	}
	return 0
}

// hostMemory is the machine's physical memory (MemTotal; 0 where unknown).
func hostMemory() int64 { return meminfo("MemTotal") }

// availableMemory is the memory the system can give without swapping
// (MemAvailable; 0 where unknown): --max-memory auto.
func availableMemory() int64 { return meminfo("MemAvailable") }

// meminfo reads one field of Linux's /proc/meminfo in bytes; 0 elsewhere.
func meminfo(field string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == field+":" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return 0
}

// checkRequest checks the request the options make with the pipeline's
// own rules (sdxl.Request.Validate) before anything is loaded, naming the
// flags involved. The init image and the mask are known by their size
// only here: they are decoded later, at the size readInitImageSize
// settled (the mask follows the init image).
func (o *options) checkRequest() error {
	req := o.request()
	var mask image.Image
	if o.initImage != "" {
		req.InitImage = sdxl.ImageOfSize(o.width, o.height)
		if o.hires.mask != "" || o.hires.pad != "" {
			mask = sdxl.ImageOfSize(o.width, o.height)
		}
	}
	o.modeRequest(&req, mask)
	err := req.Validate(sdxl.Limits{Memory: o.memoryBudget()})
	var re *sdxl.RequestError
	if !errors.As(err, &re) {
		return err
	}
	if re.Field == "size" {
		var w, h int
		fmt.Sscanf(re.Value, "%dx%d", &w, &h)
		name := fmt.Sprintf("%s %d %s %d", o.flagName("width"), w, o.flagName("height"), h)
		switch {
		case o.set["width"] || o.set["height"]:
		case o.initImage != "":
			name = fmt.Sprintf("--init-image %s (%dx%d)", o.initImage, w, h)
		case o.fromField["width"] != "":
			name = fmt.Sprintf("--from %s (Size %dx%d)", o.from, w, h)
		}
		return usagef("%s: %s", name, re.Msg)
	}
	name := o.fieldFlag(re.Field, re.Value)
	if re.With != "" {
		name += " with " + o.fieldFlag(re.With, re.WithValue)
	}
	return usagef("%s: %s", name, re.Msg)
}

// fieldFlag names an sdxl.RequestError field as the flag that set it, as
// typed, followed by value when there is one. The pipeline's fields are
// gen's flags with dashes for underscores, but for "hires" (whichever flag
// turned the hires fix on) and "mask" (--pad alone makes a mask too).
func (o *options) fieldFlag(field, value string) string {
	canon := strings.ReplaceAll(field, "_", "-")
	switch field {
	case "hires":
		canon = "hires-scale"
		for _, n := range []string{"hires-scale", "hires-width", "hires-height"} {
			if o.set[n] {
				canon = n
				break
			}
		}
	case "mask":
		if o.hires.mask == "" && o.hires.pad != "" {
			canon = "pad"
		}
	}
	if value == "" {
		return o.flagName(canon)
	}
	return o.flagName(canon) + " " + value
}
