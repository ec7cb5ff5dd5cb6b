package weights

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nlpodyssey/safetensors"

	"github.com/gosdxl/gosdxl/tensor"
)

// topologyOf is the table's topology for a configuration, read off the
// model's dry-run listing.
func topologyOf(t testing.TB, cfg Config) topology {
	var names []string
	for n := range expectedOf(t, cfg) {
		names = append(names, n)
	}
	return canonicalTopology(names)
}

// Hand-written pairs from the reference README's layout description, so the
// block numbering is checked against something other than the table itself.
func TestDiffusersTableKnownPairs(t *testing.T) {
	dir, m := writeSparseManifest(t, "manifest-sdxl-sgm.json")
	c, err := OpenCheckpoint(filepath.Join(dir, m.Files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg, err := InferConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]mapping{}
	for _, m := range diffusersTable(topologyOf(t, cfg)) {
		if _, dup := rows[m.canonical]; dup {
			t.Errorf("%s appears twice in the table", m.canonical)
		}
		rows[m.canonical] = m
	}
	pairs := []struct{ canonical, from string }{
		{"model.diffusion_model.input_blocks.0.0.weight", "unet/conv_in.weight"},
		{"model.diffusion_model.input_blocks.2.0.in_layers.2.weight", "unet/down_blocks.0.resnets.1.conv1.weight"},
		{"model.diffusion_model.input_blocks.3.0.op.weight", "unet/down_blocks.0.downsamplers.0.conv.weight"},
		{"model.diffusion_model.input_blocks.5.1.proj_in.weight", "unet/down_blocks.1.attentions.1.proj_in.weight"},
		{"model.diffusion_model.input_blocks.6.0.op.bias", "unet/down_blocks.1.downsamplers.0.conv.bias"},
		{"model.diffusion_model.input_blocks.7.0.skip_connection.weight", "unet/down_blocks.2.resnets.0.conv_shortcut.weight"},
		{"model.diffusion_model.middle_block.2.emb_layers.1.weight", "unet/mid_block.resnets.1.time_emb_proj.weight"},
		{"model.diffusion_model.output_blocks.2.2.conv.weight", "unet/up_blocks.0.upsamplers.0.conv.weight"},
		{"model.diffusion_model.output_blocks.5.2.conv.weight", "unet/up_blocks.1.upsamplers.0.conv.weight"},
		{"model.diffusion_model.output_blocks.8.0.out_layers.3.weight", "unet/up_blocks.2.resnets.2.conv2.weight"},
		{"model.diffusion_model.output_blocks.3.1.transformer_blocks.1.ff.net.0.proj.weight", "unet/up_blocks.1.attentions.0.transformer_blocks.1.ff.net.0.proj.weight"},
		{"model.diffusion_model.label_emb.0.2.weight", "unet/add_embedding.linear_2.weight"},
		{"model.diffusion_model.time_embed.0.bias", "unet/time_embedding.linear_1.bias"},
		{"model.diffusion_model.out.0.weight", "unet/conv_norm_out.weight"},
		{"model.diffusion_model.out.2.bias", "unet/conv_out.bias"},
		{"conditioner.embedders.0.transformer.text_model.encoder.layers.11.mlp.fc2.bias", "text_encoder/text_model.encoder.layers.11.mlp.fc2.bias"},
		{"conditioner.embedders.1.model.positional_embedding", "text_encoder_2/text_model.embeddings.position_embedding.weight"},
		{"conditioner.embedders.1.model.transformer.resblocks.31.mlp.c_proj.weight", "text_encoder_2/text_model.encoder.layers.31.mlp.fc2.weight"},
		{"conditioner.embedders.1.model.ln_final.bias", "text_encoder_2/text_model.final_layer_norm.bias"},
		{"first_stage_model.decoder.up.3.block.0.conv1.weight", "vae/decoder.up_blocks.0.resnets.0.conv1.weight"},
		{"first_stage_model.decoder.up.0.block.2.norm2.bias", "vae/decoder.up_blocks.3.resnets.2.norm2.bias"},
		{"first_stage_model.decoder.up.1.upsample.conv.weight", "vae/decoder.up_blocks.2.upsamplers.0.conv.weight"},
		{"first_stage_model.decoder.up.0.block.0.nin_shortcut.weight", "vae/decoder.up_blocks.3.resnets.0.conv_shortcut.weight"},
		{"first_stage_model.encoder.down.2.downsample.conv.weight", "vae/encoder.down_blocks.2.downsamplers.0.conv.weight"},
		{"first_stage_model.encoder.mid.block_2.conv1.weight", "vae/encoder.mid_block.resnets.1.conv1.weight"},
		{"first_stage_model.encoder.norm_out.weight", "vae/encoder.conv_norm_out.weight"},
		{"first_stage_model.decoder.mid.attn_1.norm.weight", "vae/decoder.mid_block.attentions.0.group_norm.weight"},
		{"first_stage_model.post_quant_conv.weight", "vae/post_quant_conv.weight"},
	}
	for _, p := range pairs {
		m, ok := rows[p.canonical]
		if !ok || len(m.from) != 1 || m.from[0].String() != p.from {
			t.Errorf("%s: table gives %v, want %s", p.canonical, m.from, p.from)
		}
	}
	special := []struct {
		canonical string
		op        transform
		from      []string
	}{
		{"conditioner.embedders.1.model.transformer.resblocks.3.attn.in_proj_weight", fuseRows, []string{
			"text_encoder_2/text_model.encoder.layers.3.self_attn.q_proj.weight",
			"text_encoder_2/text_model.encoder.layers.3.self_attn.k_proj.weight",
			"text_encoder_2/text_model.encoder.layers.3.self_attn.v_proj.weight"}},
		{"conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_bias", fuseRows, []string{
			"text_encoder_2/text_model.encoder.layers.0.self_attn.q_proj.bias",
			"text_encoder_2/text_model.encoder.layers.0.self_attn.k_proj.bias",
			"text_encoder_2/text_model.encoder.layers.0.self_attn.v_proj.bias"}},
		{"conditioner.embedders.1.model.text_projection", transpose, []string{"text_encoder_2/text_projection.weight"}},
		{"first_stage_model.encoder.mid.attn_1.proj_out.weight", linearToConv, []string{"vae/encoder.mid_block.attentions.0.to_out.0.weight"}},
		{"first_stage_model.decoder.mid.attn_1.q.weight", linearToConv, []string{"vae/decoder.mid_block.attentions.0.to_q.weight"}},
	}
	for _, s := range special {
		m := rows[s.canonical]
		var got []string
		for _, k := range m.from {
			got = append(got, k.String())
		}
		if m.op != s.op || strings.Join(got, " ") != strings.Join(s.from, " ") {
			t.Errorf("%s: table gives op %d from %v, want op %d from %v", s.canonical, m.op, got, s.op, s.from)
		}
	}
}

// invert turns a canonical tensor back into the stored diffusers tensors
// of mapping m. It is written from the layouts' definitions (q, k, v are
// found by name, not by position in the table).
func invert(t *testing.T, m mapping, e Entry) map[diffusersKey]storedTensor {
	t.Helper()
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out := map[diffusersKey]storedTensor{}
	switch m.op {
	case asIs:
		out[m.from[0]] = storedTensor{e.DType, e.Shape, data}
	case linearToConv:
		out[m.from[0]] = storedTensor{e.DType, e.Shape[:2], data}
	case transpose:
		r, c := e.Shape[0], e.Shape[1]
		out[m.from[0]] = storedTensor{e.DType, tensor.Shape{c, r}, transposeBytes(data, r, c, e.DType.Size())}
	case fuseRows:
		third := len(data) / 3
		shape := e.Shape.Clone()
		shape[0] /= 3
		for _, k := range m.from {
			part := strings.Index("qkv", k.name[strings.Index(k.name, "_proj.")-1:strings.Index(k.name, "_proj.")])
			out[k] = storedTensor{e.DType, shape, data[part*third : (part+1)*third]}
		}
	}
	return out
}

// The tiny single file, converted to a diffusers folder by inverting the
// table, must read back with every canonical tensor byte for byte.
func TestDiffusersFolderRoundTrip(t *testing.T) {
	single, err := OpenCheckpoint(tinyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	cfg, err := InferConfig(single)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]map[string]safetensors.TensorView{}
	mapped := map[string]bool{}
	for _, m := range diffusersTable(topologyOf(t, cfg)) {
		e, ok := single.Lookup(m.canonical)
		if !ok {
			continue
		}
		mapped[m.canonical] = true
		for k, st := range invert(t, m, e) {
			if files[k.component] == nil {
				files[k.component] = map[string]safetensors.TensorView{}
			}
			files[k.component][k.name] = tensorView(t, st)
		}
	}
	for _, n := range single.Names() {
		if !mapped[n] {
			t.Errorf("%s: no row of the diffusers table produces it", n)
		}
	}
	dir := t.TempDir()
	for comp, tensors := range files {
		raw, err := safetensors.Serialize(tensors, map[string]string{"format": "pt"})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, comp, "model.fp16.safetensors"), raw)
	}
	folder, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer folder.Close()
	if got, want := strings.Join(folder.Names(), "\n"), strings.Join(single.Names(), "\n"); got != want {
		t.Fatalf("folder names differ from the single file's")
	}
	for _, n := range single.Names() {
		a, _ := single.Lookup(n)
		b, _ := folder.Lookup(n)
		ab, _ := a.Bytes()
		bb, err := b.Bytes()
		if err != nil || a.DType != b.DType || !a.Shape.Equal(b.Shape) || !bytes.Equal(ab, bb) {
			t.Errorf("%s: %s%v from the folder, %s%v in the file (bytes equal: %v, err %v)", n, b.DType, b.Shape, a.DType, a.Shape, bytes.Equal(ab, bb), err)
		}
	}
	stored := map[string]*mappedFile{}
	for _, f := range folder.files {
		stored[filepath.Base(filepath.Dir(f.path))] = f
	}
	if got, want := diffusersTopology(stored), topologyOf(t, cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("counted topology %+v, listed topology %+v", got, want)
	}
}

func tensorView(t *testing.T, st storedTensor) safetensors.TensorView {
	t.Helper()
	dt, err := safetensors.ParseDType(st.dtype.String())
	if err != nil {
		t.Fatal(err)
	}
	shape := make([]uint64, len(st.shape))
	for i, d := range st.shape {
		shape[i] = uint64(d)
	}
	v, err := safetensors.NewTensorView(dt, shape, st.data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
