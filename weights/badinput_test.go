package weights

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/weights/internal/sparse"
)

// rawSafetensors assembles a file from a header and a data section.
func rawSafetensors(header string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), make([]byte, data)...)
}

// wantOpenError opens path and requires an error naming the path and
// containing every fragment.
func wantOpenError(t *testing.T, path string, fragments ...string) {
	t.Helper()
	c, err := OpenCheckpoint(path)
	if err == nil {
		c.Close()
		t.Fatalf("%s opened without error", path)
	}
	msg := err.Error()
	t.Log(msg)
	for _, f := range append([]string{path}, fragments...) {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not mention %q", msg, f)
		}
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	tensorAt := func(dtype, shape, offsets string) string {
		return `{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
	}
	cases := []struct {
		name      string
		content   []byte
		fragments []string
	}{
		{"zero-length", nil, []string{"empty"}},
		{"too short", []byte{1, 2, 3}, []string{"too short"}},
		{"header beyond file", binary.LittleEndian.AppendUint64(nil, 1<<20), []string{"header length 1048576 goes beyond the end of the file"}},
		{"invalid JSON", rawSafetensors(`{"a": {"dtype": "F16",`, 0), []string{"not valid JSON"}},
		{"JSON array", rawSafetensors(`[1, 2]`, 0), []string{"not an object"}},
		{"offsets beyond data", rawSafetensors(`{"w":`+tensorAt("F16", "[4]", "[0,8]")+`}`, 4), []string{`"w"`, "beyond the 4 bytes"}},
		{"overlapping", rawSafetensors(`{"a":`+tensorAt("F16", "[4]", "[0,8]")+`,"b":`+tensorAt("F16", "[4]", "[4,12]")+`}`, 12), []string{`"a" and "b" overlap`}},
		{"size mismatch", rawSafetensors(`{"w":`+tensorAt("F16", "[3]", "[0,8]")+`}`, 8), []string{`"w"`, "needs 6 bytes", "hold 8"}},
		{"reversed offsets", rawSafetensors(`{"w":`+tensorAt("F16", "[0]", "[8,0]")+`}`, 8), []string{`"w"`, "end before they begin"}},
		{"gap", rawSafetensors(`{"w":`+tensorAt("F16", "[2]", "[4,8]")+`}`, 8), []string{"4 unused bytes", `"w"`}},
		{"trailing data", rawSafetensors(`{"w":`+tensorAt("F16", "[2]", "[0,4]")+`}`, 8), []string{"4 bytes of data after the last tensor"}},
		{"unknown dtype", rawSafetensors(`{"w":`+tensorAt("F8_E4M3", "[2]", "[0,2]")+`}`, 2), []string{`"w"`, "F8_E4M3"}},
		{"F64 weight", rawSafetensors(`{"model.diffusion_model.out.2.bias":`+tensorAt("F64", "[1]", "[0,8]")+`}`, 8), []string{"out.2.bias", "dtype F64"}},
		{"U8 weight", rawSafetensors(`{"w":`+tensorAt("U8", "[4]", "[0,4]")+`}`, 4), []string{`"w"`, "dtype U8"}},
		{"negative dim", rawSafetensors(`{"w":`+tensorAt("F16", "[-2]", "[0,4]")+`}`, 4), []string{`"w"`, "shape"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			writeFile(t, path, tc.content)
			wantOpenError(t, path, tc.fragments...)
		})
	}
}

// Training leftovers of a type gosdxl cannot hold are dropped, not refused.
func TestIgnorableTensorOfUnsupportedTypeIsSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "extra.safetensors")
	writeFile(t, path, rawSafetensors(`{"alphas_cumprod":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"w":{"dtype":"F16","shape":[2],"data_offsets":[16,20]}}`, 20))
	c, err := OpenCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if names := c.Names(); len(names) != 1 || names[0] != "w" || c.Stats().DTypes["F64"] != 1 {
		t.Errorf("names %v, stats %+v", names, c.Stats())
	}
}

func TestOpenRejectsBadPaths(t *testing.T) {
	dir := t.TempDir()
	wantOpenError(t, filepath.Join(dir, "nope.safetensors"), "no such file")
	wantOpenError(t, dir, "not a diffusers folder")
	writeFile(t, filepath.Join(dir, "model.safetensors"), rawSafetensors(`{}`, 0))
	wantOpenError(t, dir, "not a diffusers folder", "name the file: model.safetensors")
	os.Mkdir(filepath.Join(dir, "unet"), 0o755)
	wantOpenError(t, dir, "unet", "no .safetensors")
	writeFile(t, filepath.Join(dir, "unet", "diffusion_pytorch_model.bin"), []byte("x"))
	wantOpenError(t, dir, "diffusion_pytorch_model.bin", ".safetensors only")
}

// tinyTensors lists the tiny checkpoint's header entries, to build
// variants of it as sparse files.
func tinyTensors(t *testing.T) []sparse.Tensor {
	t.Helper()
	mf, err := openMapped(tinyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.close()
	var out []sparse.Tensor
	for _, n := range mf.order {
		st := mf.tensors[n]
		out = append(out, sparse.Tensor{Name: n, DType: st.dtype.String(), Shape: st.shape.Clone()})
	}
	return out
}

func writeSparse(t *testing.T, tensors []sparse.Tensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := sparse.Write(path, sparse.File{Tensors: tensors}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWrongShapeIsMismatched(t *testing.T) {
	tensors := tinyTensors(t)
	const victim = UNetPrefix + "output_blocks.4.0.in_layers.2.weight"
	found := false
	for i := range tensors {
		if tensors[i].Name == victim {
			tensors[i].Shape[1]-- // one input channel short
			found = true
		}
	}
	if !found {
		t.Fatalf("%s not in the tiny checkpoint", victim)
	}
	src, err := Open(writeSparse(t, tensors))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg, err := InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	r := CheckTensors(src, expectedOf(t, cfg))
	if len(r.Missing) != 0 || len(r.Unused) != 0 || len(r.Mismatched) != 1 ||
		!strings.Contains(r.Mismatched[0], victim+": shape [128 255 3 3] in the file, expected [128 256 3 3]") {
		t.Errorf("report %+v", r)
	}
}

func TestMissingAndUnusedAreReported(t *testing.T) {
	var tensors []sparse.Tensor
	const dropped = VAEPrefix + "decoder.up.0.block.1.norm1.bias"
	for _, tn := range tinyTensors(t) {
		if tn.Name != dropped {
			tensors = append(tensors, tn)
		}
	}
	tensors = append(tensors,
		sparse.Tensor{Name: "model.diffusion_model.extra.weight", DType: "F16", Shape: []int{2}},
		sparse.Tensor{Name: "conditioner.embedders.1.model.logit_scale", DType: "F16", Shape: []int{}})
	src, err := Open(writeSparse(t, tensors))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg, err := InferConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	r := CheckTensors(src, expectedOf(t, cfg))
	if strings.Join(r.Missing, ",") != dropped || strings.Join(r.Unused, ",") != "model.diffusion_model.extra.weight" || len(r.Mismatched) != 0 {
		t.Errorf("report %+v", r)
	}
}

// inferError builds a sparse file of tensors and requires InferConfig to
// refuse it with an error naming the file and containing fragment.
func inferError(t *testing.T, tensors []sparse.Tensor, fragment string) {
	t.Helper()
	path := writeSparse(t, tensors)
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = InferConfig(src)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fragment) {
		t.Errorf("error %v, want one naming %s and %q", err, path, fragment)
	}
}

func f16(name string, shape ...int) sparse.Tensor {
	return sparse.Tensor{Name: name, DType: "F16", Shape: shape}
}

// unetStub is a one-level UNet with a transformer, context width ctx and
// label_emb input adm (0: none): enough for InferConfig to read widths.
func unetStub(ctx, adm int) []sparse.Tensor {
	p := UNetPrefix
	ts := []sparse.Tensor{
		f16(p+"input_blocks.0.0.weight", 320, 4, 3, 3),
		f16(p+"input_blocks.1.0.out_layers.3.weight", 320, 320, 3, 3),
		f16(p+"input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", 320, ctx),
		f16(p+"time_embed.0.weight", 1280, 320),
		f16(p+"out.2.weight", 4, 320, 3, 3),
	}
	if adm > 0 {
		ts = append(ts, f16(p+"label_emb.0.0.weight", 1280, adm))
	}
	return ts
}

func TestInferConfigRejectsOtherModels(t *testing.T) {
	t.Run("SD 1.x single file", func(t *testing.T) {
		inferError(t, append(unetStub(768, 0), f16("cond_stage_model.transformer.text_model.final_layer_norm.weight", 768)), "Stable Diffusion 1.x")
	})
	t.Run("SD 1.x UNet only", func(t *testing.T) {
		inferError(t, unetStub(768, 0), "Stable Diffusion 1.x-shaped UNet (context width 768)")
	})
	t.Run("SD 2.x", func(t *testing.T) {
		inferError(t, append(unetStub(1024, 0), f16("cond_stage_model.model.ln_final.weight", 1024)), "Stable Diffusion 2.x")
	})
	t.Run("SDXL refiner", func(t *testing.T) {
		inferError(t, append(unetStub(1280, 2560), f16("conditioner.embedders.0.model.ln_final.weight", 1280)), "SDXL refiner")
	})
	t.Run("SDXL refiner by shape", func(t *testing.T) {
		inferError(t, append(unetStub(1280, 2560), f16(TextEncoder2Prefix+"ln_final.weight", 1280)), "SDXL refiner")
	})
	t.Run("inpainting", func(t *testing.T) {
		ts := unetStub(2048, 2816)
		ts[0].Shape[1] = 9
		inferError(t, ts, "9 input channels")
	})
	t.Run("LoRA", func(t *testing.T) {
		inferError(t, []sparse.Tensor{f16("lora_unet_down_blocks_1_attentions_0_proj_in.lora_down.weight", 8, 640)}, "LoRA adapter")
	})
	t.Run("PEFT LoRA", func(t *testing.T) {
		inferError(t, []sparse.Tensor{f16("unet.down_blocks.1.attentions.0.proj_in.lora_A.weight", 8, 640)}, "LoRA adapter")
	})
	t.Run("LyCORIS", func(t *testing.T) {
		inferError(t, []sparse.Tensor{f16("lora_unet_mid_block_attentions_0_proj_in.hada_w1_a", 640, 8)}, "LyCORIS adapter")
	})
	t.Run("VAE alone", func(t *testing.T) {
		inferError(t, []sparse.Tensor{f16("encoder.conv_in.weight", 128, 3, 3, 3)}, "VAE alone")
	})
	t.Run("something else", func(t *testing.T) {
		inferError(t, []sparse.Tensor{f16("layers.0.weight", 4, 4)}, "not a Stable Diffusion checkpoint")
	})
	t.Run("SDXL without text encoders", func(t *testing.T) {
		inferError(t, unetStub(2048, 2816), TextEncoder1Prefix+"embeddings.token_embedding.weight is missing")
	})
}

// With both variants in a component folder the fp16 one is read; more
// files than that are refused rather than guessed at.
func TestDiffusersVariantChoice(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "vae", "diffusion_pytorch_model.safetensors"),
		rawSafetensors(`{"full":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	writeFile(t, filepath.Join(dir, "vae", "diffusion_pytorch_model.fp16.safetensors"),
		rawSafetensors(`{"half":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, 2))
	c, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if names := c.Names(); len(names) != 1 || names[0] != "vae/half" {
		t.Errorf("names %v, want the fp16 file's [vae/half]", names)
	}
	c.Close()
	writeFile(t, filepath.Join(dir, "vae", "other.safetensors"), rawSafetensors(`{}`, 0))
	wantOpenError(t, dir, "vae", "several weight files")
}
