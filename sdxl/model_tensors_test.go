package sdxl

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
	"github.com/gosdxl/gosdxl/weights"
)

// mustExpected is the model's dry-run listing of cfg.
func mustExpected(t testing.TB, cfg weights.Config) weights.Expected {
	t.Helper()
	want, err := ExpectedTensors(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// The dry run reports shapes as checkpoints store them, whatever layout
// the layer binds: a 3×3 conv [O,I,KH,KW] (bound channels-last), the bigG
// projection [width, proj] (bound transposed), a VAE attention projection
// [C,C,1,1] (viewed as a Linear).
func TestExpectedTensorsStoredShapes(t *testing.T) {
	src := openTinyCheckpoint(t)
	cfg, err := weights.InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	want := mustExpected(t, cfg)
	for _, name := range []string{
		weights.UNetPrefix + "input_blocks.4.0.in_layers.2.weight",
		weights.TextEncoder2Prefix + "text_projection",
		weights.VAEPrefix + "decoder.mid.attn_1.q.weight",
	} {
		e, ok := src.Lookup(name)
		if !ok || !want[name].Shape.Equal(e.Shape) {
			t.Errorf("%s: listed %v, stored %v", name, want[name].Shape, e.Shape)
		}
	}
	if w := want[weights.UNetPrefix+"input_blocks.4.1.transformer_blocks.0.attn1.to_q.bias"]; !w.Optional {
		t.Errorf("attention q bias listed as required")
	}
	if r := weights.CheckTensors(src, want); !r.OK() {
		t.Errorf("tiny checkpoint against its listing: %+v", r)
	}
}

// One place defines the topology: a configuration with another block
// count gives a listing from which a checkpoint can be written that
// inspect accepts as complete, whose configuration inference recovers,
// that loads, and whose diffusers form (named by the mapping derived from
// the same listing) reads back as the same canonical tensors.
func TestModifiedTopologyIsConsistent(t *testing.T) {
	base, err := weights.InferConfig(openTinyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*weights.Config){
		"three ResBlocks per level": func(c *weights.Config) { c.UNet.ResBlocksPerLevel = 3 },
		"other transformer depths": func(c *weights.Config) {
			c.UNet.TransformerDepth = []int{1, 0, 3}
			c.UNet.Heads = []int{1, 0, 2}
			c.UNet.MidTransformerDepth = 1
		},
		"two levels": func(c *weights.Config) {
			c.UNet.Channels = []int{64, 128}
			c.UNet.TransformerDepth = []int{0, 2}
			c.UNet.Heads = []int{0, 2}
		},
	}
	for name, modify := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := base
			cfg.UNet.Channels = append([]int(nil), base.UNet.Channels...)
			modify(&cfg)
			listing := mustExpected(t, cfg)
			if reflect.DeepEqual(listing, mustExpected(t, base)) {
				t.Fatal("the modified configuration lists the same tensors")
			}
			path := filepath.Join(t.TempDir(), "model.safetensors")
			writeListing(t, path, listing)
			single := checkCheckpoint(t, path, cfg, listing)
			m, err := LoadModel(path, cpu.New())
			if err != nil {
				t.Fatal(err)
			}
			m.Close()

			dir := filepath.Join(t.TempDir(), "folder")
			writeDiffusersFolder(t, dir, listing)
			folder := checkCheckpoint(t, dir, cfg, listing)
			if got, want := folder.Names(), single.Names(); !reflect.DeepEqual(got, want) {
				t.Errorf("the diffusers folder reads back %d canonical tensors, the single file %d", len(got), len(want))
			}
		})
	}
}

// checkCheckpoint opens path and requires what `gen inspect` does (infer
// the configuration, compare the tensors with its listing) to agree with
// cfg and listing.
func checkCheckpoint(t *testing.T, path string, cfg weights.Config, listing weights.Expected) weights.Source {
	t.Helper()
	src, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	got, err := weights.InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("inferred %+v\nwant %+v", got.UNet, cfg.UNet)
	}
	if r := weights.CheckTensors(src, mustExpected(t, got)); !r.OK() {
		t.Errorf("inspect: %d missing %v, %d mismatched %v, %d unused %v",
			len(r.Missing), r.Missing, len(r.Mismatched), r.Mismatched, len(r.Unused), r.Unused)
	}
	for n, w := range listing {
		if e, ok := src.Lookup(n); !ok || !e.Shape.Equal(w.Shape) {
			t.Errorf("%s: read back %v (found %v), listed %v", n, e.Shape, ok, w.Shape)
		}
	}
	return src
}

// writeListing writes a checkpoint holding every listed tensor, zeros
// (float32: the test helpers encode it fastest).
func writeListing(t *testing.T, path string, listing weights.Expected) {
	t.Helper()
	f := &loratest.File{Tensors: map[string]*loratest.Tensor{}}
	for n, w := range listing {
		f.Tensors[n] = zeros(w.Shape)
	}
	if err := loratest.Write(path, f, nil); err != nil {
		t.Fatal(err)
	}
}

// writeDiffusersFolder writes the listed tensors as a diffusers folder,
// named by weights.DiffusersNames and stored the diffusers way: fused rows
// split, the text projection transposed, 1×1-conv projections as Linears.
func writeDiffusersFolder(t *testing.T, dir string, listing weights.Expected) {
	t.Helper()
	files := map[string]*loratest.File{}
	covered := map[string]bool{}
	for dname, d := range weights.DiffusersNames(listing) {
		shape := append([]int(nil), listing[d.Canonical].Shape...)
		shape[0] /= d.Blocks
		if d.Transformed {
			if len(shape) == 2 {
				shape[0], shape[1] = shape[1], shape[0]
			} else {
				shape = shape[:2]
			}
		}
		comp, name := weights.SplitDiffusersName(dname)
		if files[comp] == nil {
			files[comp] = &loratest.File{Tensors: map[string]*loratest.Tensor{}}
		}
		files[comp].Tensors[name] = zeros(shape)
		covered[d.Canonical] = true
	}
	var uncovered []string
	for n := range listing {
		if !covered[n] {
			uncovered = append(uncovered, n)
		}
	}
	sort.Strings(uncovered)
	if len(uncovered) > 0 {
		t.Fatalf("%d listed tensors have no diffusers name: %s", len(uncovered), strings.Join(uncovered, ", "))
	}
	for comp, f := range files {
		if err := os.MkdirAll(filepath.Join(dir, comp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := loratest.Write(filepath.Join(dir, comp, "model.safetensors"), f, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func zeros(shape tensor.Shape) *loratest.Tensor {
	return &loratest.Tensor{DType: "F32", Shape: append([]int(nil), shape...), V: make([]float64, shape.NumElements())}
}
