package sdxl

import (
	"math"
	"math/rand"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/weights"
)

// LoRA merging is checked end to end: generating with adapters merged by
// package lora must equal generating from a checkpoint into which
// internal/loratest merged the same adapters in float64 (its own reader,
// names and formulas). The float32-vs-float64 spread of whole tiny
// generations is about 1e-6 (pipeline_test.go); 1e-5 is the bound.
// Every adapter moves the latents by far more (checked), so a wrong key,
// layout or scale cannot pass.
const (
	loraLatentTol = 1e-5
	loraMinEffect = 1e-2
)

const (
	u  = weights.UNetPrefix
	t1 = weights.TextEncoder1Prefix
	t2 = weights.TextEncoder2Prefix
)

var (
	loraCkptOnce sync.Once
	loraCkpt     *loratest.File
	loraCkptRaw  map[string][]byte
	loraCkptErr  error
)

func tinyParsed(t *testing.T) (*loratest.File, map[string][]byte) {
	t.Helper()
	loraCkptOnce.Do(func() { loraCkpt, loraCkptRaw, loraCkptErr = loratest.Read(refdata.TinyCheckpoint(t)) })
	if loraCkptErr != nil {
		t.Fatal(loraCkptErr)
	}
	return loraCkpt, loraCkptRaw
}

// testAdapters builds one adapter per format for the tiny model. Keys and
// targets are written out here by hand, in every spelling.
func testAdapters(t *testing.T) map[string]*loratest.Adapter {
	ck, _ := tinyParsed(t)
	b := &loratest.Builder{Ckpt: ck, R: rand.New(rand.NewSource(10)), DT: "F32"}
	bf := &loratest.Builder{Ckpt: ck, R: rand.New(rand.NewSource(11)), DT: "BF16"}
	h := &loratest.Builder{Ckpt: ck, R: rand.New(rand.NewSource(12)), DT: "F16"}
	tg := func(canonical, key string) loratest.Target {
		return loratest.Target{Canonical: canonical, Key: key}
	}
	te := func(canonical, key string, block, blocks int) loratest.Target {
		return loratest.Target{Canonical: canonical, Key: key, Block: block, Blocks: blocks, Text: true}
	}
	return map[string]*loratest.Adapter{
		// kohya SDXL LoRA with LoCon convs, SGM spelling of the UNet.
		"kohya": {Modules: []*loratest.Module{
			b.LoRA(tg(u+"input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight", "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q"), 4, 2, false),
			b.LoRA(tg(u+"input_blocks.1.0.in_layers.2.weight", "lora_unet_input_blocks_1_0_in_layers_2"), 4, 1, false),
			b.LoRA(tg(u+"output_blocks.0.0.skip_connection.weight", "lora_unet_output_blocks_0_0_skip_connection"), 8, 0, false),
			b.LoRA(te(t1+"encoder.layers.0.self_attn.q_proj.weight", "lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 0, 1), 4, 4, false),
			b.LoRA(te(t2+"transformer.resblocks.0.attn.in_proj_weight", "lora_te2_text_model_encoder_layers_0_self_attn_k_proj", 1, 3), 4, 1, false),
			b.LoRA(te(t2+"transformer.resblocks.1.mlp.c_fc.weight", "lora_te2_text_model_encoder_layers_1_mlp_fc1", 0, 1), 2, 1, false),
		}},
		// kohya LoCon in the diffusers spelling, bf16 factors.
		"kohya-diffusers": {Modules: []*loratest.Module{
			bf.LoRA(tg(u+"input_blocks.1.0.in_layers.2.weight", "lora_unet_down_blocks_0_resnets_0_conv1"), 4, 2, false),
			bf.LoRA(tg(u+"middle_block.1.transformer_blocks.1.attn2.to_k.weight", "lora_unet_mid_block_attentions_0_transformer_blocks_1_attn2_to_k"), 4, 2, false),
			bf.LoRA(tg(u+"output_blocks.0.0.skip_connection.weight", "lora_unet_up_blocks_0_resnets_0_conv_shortcut"), 4, 2, false),
			bf.LoRA(tg(u+"output_blocks.5.2.conv.weight", "lora_unet_up_blocks_1_upsamplers_0_conv"), 4, 2, false),
			bf.LoRA(te(t2+"transformer.resblocks.0.attn.out_proj.weight", "lora_te2_text_model_encoder_layers_0_self_attn_out_proj", 0, 1), 4, 2, false),
		}},
		// diffusers/PEFT, no alphas, fp16 factors.
		"peft": {Modules: []*loratest.Module{
			h.LoRA(tg(u+"input_blocks.4.1.transformer_blocks.0.attn1.to_q.weight", "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"), 4, 0, true),
			h.LoRA(tg(u+"input_blocks.4.1.proj_in.weight", "unet.down_blocks.1.attentions.0.proj_in"), 4, 0, true),
			h.LoRA(te(t2+"transformer.resblocks.0.attn.in_proj_weight", "text_encoder_2.text_model.encoder.layers.0.self_attn.v_proj", 2, 3), 4, 0, true),
			h.LoRA(te(t1+"encoder.layers.1.mlp.fc2.weight", "text_encoder.text_model.encoder.layers.1.mlp.fc2", 0, 1), 4, 0, true),
		}},
		"loha": {Modules: []*loratest.Module{
			b.LoHa(tg(u+"input_blocks.5.1.transformer_blocks.0.ff.net.0.proj.weight", "lora_unet_input_blocks_5_1_transformer_blocks_0_ff_net_0_proj"), 4, 2),
			b.LoHa(tg(u+"input_blocks.4.0.in_layers.2.weight", "lora_unet_input_blocks_4_0_in_layers_2"), 4, 4),
			b.LoHa(te(t1+"encoder.layers.0.self_attn.q_proj.weight", "lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 0, 1), 2, 1),
		}},
		"lokr": {Modules: []*loratest.Module{
			b.LoKr(tg(u+"input_blocks.4.1.transformer_blocks.0.attn1.to_k.weight", "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_k"), 8, 8, 2, true, false, 1),
			b.LoKr(tg(u+"middle_block.0.in_layers.2.weight", "lora_unet_middle_block_0_in_layers_2"), 4, 4, 0, true, true, 3),
			b.LoKr(tg(u+"output_blocks.2.1.proj_out.weight", "lora_unet_output_blocks_2_1_proj_out"), 8, 8, 1, false, true, 0.5),
			b.LoKr(te(t2+"transformer.resblocks.1.attn.in_proj_weight", "lora_te2_text_model_encoder_layers_1_self_attn_q_proj", 0, 3), 4, 4, 2, false, false, 1),
		}},
	}
}

// writeAdapter stores an adapter as name.safetensors in dir and opens it.
func writeAdapter(t *testing.T, dir, name string, a *loratest.Adapter) *lora.File {
	t.Helper()
	path := filepath.Join(dir, name+".safetensors")
	if err := loratest.Write(path, a.File(), nil); err != nil {
		t.Fatal(err)
	}
	f, err := lora.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// loraRequest is a short generation whose both CFG halves go through both
// text encoders.
func loraRequest() Request {
	return Request{Prompt: "1girl, solo, smile", Negative: "lowres", HasNegative: true, Width: 128, Height: 128,
		Steps: 3, CFGScale: 5, Sampler: "euler", Seed: 7, Batch: 1}
}

// finalLatents generates with r and returns the final latents.
func finalLatents(t *testing.T, m *Model) []float32 {
	t.Helper()
	dir := t.TempDir()
	if _, err := generateDumped(m, loraRequest(), dir); err != nil {
		t.Fatal(err)
	}
	return goldenIn(t, readGoldens(t, filepath.Join(dir, "sampling.safetensors")), "latents_final").data
}

// snapshot reads every bound weight back as float32 bit patterns.
func snapshot(m *Model) map[string][]uint32 {
	out := map[string][]uint32{}
	for name, slot := range m.slots {
		v := m.backend.ToFloat32(*slot)
		bits := make([]uint32, len(v))
		for i, x := range v {
			bits[i] = math.Float32bits(x)
		}
		out[name] = bits
	}
	return out
}

func TestLoRAMergeMatchesFloat64Merge(t *testing.T) {
	ck, raw := tinyParsed(t)
	m, err := LoadModel(refdata.TinyCheckpoint(t), newTestCPU(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before := snapshot(m)
	base := finalLatents(t, m)

	adapters := testAdapters(t)
	dir := t.TempDir()
	files := map[string]*lora.File{}
	for name, a := range adapters {
		files[name] = writeAdapter(t, dir, name, a)
	}
	type use struct {
		name       string
		unet, text float64
	}
	cases := []struct {
		name string
		uses []use
	}{
		{"kohya LoRA and LoCon, SGM names", []use{{"kohya", 1, 1}}},
		{"kohya LoCon, diffusers names", []use{{"kohya-diffusers", 0.7, 0.7}}},
		{"diffusers PEFT", []use{{"peft", 1, 1}}},
		{"LyCORIS LoHa", []use{{"loha", 1, 1}}},
		{"LyCORIS LoKr", []use{{"lokr", 1, 1}}},
		{"two adapters, negative strength, separate te", []use{{"kohya", 0.8, 0.5}, {"loha", -1.5, -1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var uses []lora.Use
			var ref []loratest.Use
			for _, x := range c.uses {
				uses = append(uses, lora.Use{File: files[x.name], Name: x.name, UNet: x.unet, Text: x.text})
				ref = append(ref, loratest.Use{Adapter: adapters[x.name], UNet: x.unet, Text: x.text})
			}
			if err := m.ApplyLoRAs(uses); err != nil {
				t.Fatal(err)
			}
			got := finalLatents(t, m)

			merged, err := loratest.Merge(ck, ref)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "merged.safetensors")
			if err := loratest.Write(path, merged, raw); err != nil {
				t.Fatal(err)
			}
			mm, err := LoadModel(path, newTestCPU(t))
			if err != nil {
				t.Fatal(err)
			}
			want := finalLatents(t, mm)
			mm.Close()

			effect := relL2(base, want)
			if effect < loraMinEffect {
				t.Fatalf("the adapters move the latents by only %.2g (rel-L2): the test would not see a mistake", effect)
			}
			d := relL2(got, want)
			if d > loraLatentTol {
				t.Errorf("latents differ from the float64-merged checkpoint's by %.3g (rel-L2), want ≤ %g", d, loraLatentTol)
			}
			t.Logf("rel-L2 %.2g against the float64 merge (the adapters' effect: %.2g)", d, effect)
		})
	}

	if err := m.ApplyLoRAs(nil); err != nil {
		t.Fatal(err)
	}
	after := snapshot(m)
	for name, want := range before {
		got := after[name]
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s element %d: %08x after unmerging, %08x as loaded", name, i, got[i], want[i])
			}
		}
	}
	if d := relL2(finalLatents(t, m), base); d != 0 {
		t.Errorf("after unmerging, latents differ from the plain checkpoint's by %.3g", d)
	}
}
