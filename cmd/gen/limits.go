package main

import (
	"bufio"
	"errors"
	"fmt"
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
		// is reported by validateHires, which runs after this check.
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
// flags involved. The init image is known by its size only here: it is
// decoded later, at the size readInitImageSize settled.
func (o *options) checkRequest() error {
	req := o.request()
	if o.initImage != "" {
		req.InitImage = sdxl.ImageOfSize(o.width, o.height)
	}
	err := req.Validate(sdxl.Limits{Memory: o.memoryBudget()})
	var re *sdxl.RequestError
	if !errors.As(err, &re) {
		return err
	}
	var name string
	switch {
	case re.Field == "size":
		name = fmt.Sprintf("%s %d %s %d", o.flagName("width"), o.width, o.flagName("height"), o.height)
		switch {
		case o.set["width"] || o.set["height"]:
		case o.initImage != "":
			name = fmt.Sprintf("--init-image %s (%dx%d)", o.initImage, o.width, o.height)
		case o.fromField["width"] != "":
			name = fmt.Sprintf("--from %s (Size %dx%d)", o.from, o.width, o.height)
		}
		return usagef("%s: %s", name, re.Msg)
	case re.With != "":
		return usagef("%s %s with %s %s: %s", o.flagName(re.Field), re.Value, o.flagName(re.With), re.WithValue, re.Msg)
	case re.Value != "":
		return usagef("%s %s: %s", o.flagName(re.Field), re.Value, re.Msg)
	default:
		return usagef("%s: %s", o.flagName(re.Field), re.Msg)
	}
}
