package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/weights"
)

const inspectUsage = `usage: gen inspect PATH

Describes a checkpoint (a .safetensors file or a diffusers folder) as JSON:
its layout, stored dtypes, tensor count and bytes, the configuration
inferred from its shapes, and the tensors that are missing, mis-shaped or
unused for SDXL. Exits with status 1 when the checkpoint is not usable.
A PATH ending in .png shows the generation parameters stored in the image.
A LoRA/LoCon/LoHa/LoKr file is described instead (format, base model
guess, rank and alpha per module family, layers touched, unused tensors),
and so is an SDXL textual-inversion embedding.`

// runInspect describes a checkpoint, or a generated PNG.
func runInspect(args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintln(stdout, inspectUsage)
			return nil
		}
		return usagef("inspect: %v", err)
	}
	if fs.NArg() != 1 {
		return usagef("inspect: expected one PATH (a .safetensors file, a diffusers folder or a .png image), got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	if err := checkReadable(path, true); err != nil {
		return err
	}
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		return inspectPNG(path)
	}
	if handled, err := inspectAdapter(path, stdout); handled {
		return err
	}
	return inspectCheckpoint(path, stdout)
}

// inspection is the JSON that `gen inspect` prints for a checkpoint.
type inspection struct {
	Layout     weights.Layout `json:"layout"`
	DTypes     map[string]int `json:"dtypes"`
	Tensors    int            `json:"tensors"`
	Bytes      int64          `json:"bytes"`
	Config     weights.Config `json:"config"`
	Missing    []string       `json:"missing"`
	Mismatched []string       `json:"mismatched"`
	Unused     []string       `json:"unused"`
}

// inspectCheckpoint writes the inspection of the checkpoint at path to w.
// A checkpoint that opens and is recognised is always described; when
// tensors are missing, mis-shaped or unused it is still an error, after the
// description, because generation would refuse it.
func inspectCheckpoint(path string, w io.Writer) error {
	c, err := weights.OpenCheckpoint(path)
	if err != nil {
		return err
	}
	defer c.Close()
	cfg, err := weights.InferConfig(c)
	if err != nil {
		return err
	}
	want, err := sdxl.ExpectedTensors(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	report := weights.CheckTensors(c, want)
	st := c.Stats()
	out, err := json.MarshalIndent(inspection{
		Layout: c.Layout(), DTypes: st.DTypes, Tensors: st.Tensors, Bytes: st.Bytes, Config: cfg,
		Missing: report.Missing, Mismatched: report.Mismatched, Unused: report.Unused,
	}, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", out); err != nil {
		return err
	}
	if !report.OK() {
		return fmt.Errorf("%s: %d missing, %d mismatched and %d unused tensors (listed above)",
			path, len(report.Missing), len(report.Mismatched), len(report.Unused))
	}
	return nil
}
