package weights

import "strconv"

// This file is the one table between diffusers folder names and canonical
// SGM names. It is built in loops from the model's topology (the block
// numbering read off canonical names, see unet_blocks.go, or off a diffusers
// folder's names), one exact full key per tensor: no substring renaming. Each row says which stored tensors
// make a canonical tensor and how (see transform.go).

// diffusersKey names a tensor inside a diffusers folder: the component
// subfolder ("unet", "text_encoder", "text_encoder_2", "vae") and the name
// in that component's safetensors file.
type diffusersKey struct {
	component, name string
}

func (k diffusersKey) String() string { return k.component + "/" + k.name }

// mapping makes one canonical tensor from one or more diffusers tensors.
type mapping struct {
	canonical string
	from      []diffusersKey
	op        transform
}

// topology is the block structure the table is built from: what a loop must
// know to spell every name. It comes from the canonical names a model
// declares (canonicalTopology) or from counting indices in a diffusers
// folder's names (diffusersTopology).
type topology struct {
	unet                    unetBlocks
	te1Layers, te2Layers    int
	vaeLevels, vaeResBlocks int
}

// canonicalTopology reads the topology off canonical names.
func canonicalTopology(names []string) topology {
	return topology{
		unet:         readUNetBlocks(names),
		te1Layers:    countIndexed(names, TextEncoder1Prefix+"encoder.layers."),
		te2Layers:    countIndexed(names, TextEncoder2Prefix+"transformer.resblocks."),
		vaeLevels:    countIndexed(names, VAEPrefix+"encoder.down."),
		vaeResBlocks: countIndexed(names, VAEPrefix+"encoder.down.0.block."),
	}
}

// table collects mappings while the loops run.
type table struct{ rows []mapping }

func (t *table) add(op transform, canonical string, from ...diffusersKey) {
	t.rows = append(t.rows, mapping{canonical: canonical, from: from, op: op})
}

// weightBias maps "<from>.weight" and "<from>.bias" to the same suffixes
// of canonical; absent biases (attention q/k/v) are simply not found.
func (t *table) weightBias(op transform, canonical string, component, from string) {
	t.add(op, canonical+".weight", diffusersKey{component, from + ".weight"})
	t.add(asIs, canonical+".bias", diffusersKey{component, from + ".bias"})
}

func itoa(i int) string { return strconv.Itoa(i) }

// diffusersTable returns every mapping of a model with topology top.
func diffusersTable(top topology) []mapping {
	t := &table{}
	t.unet(top)
	t.textEncoder1(top.te1Layers)
	t.textEncoder2(top.te2Layers)
	t.vae(top)
	return t.rows
}

func (t *table) unet(top topology) {
	const c = "unet"
	p := UNetPrefix
	t.weightBias(asIs, p+"input_blocks.0.0", c, "conv_in")
	t.weightBias(asIs, p+"time_embed.0", c, "time_embedding.linear_1")
	t.weightBias(asIs, p+"time_embed.2", c, "time_embedding.linear_2")
	t.weightBias(asIs, p+"label_emb.0.0", c, "add_embedding.linear_1")
	t.weightBias(asIs, p+"label_emb.0.2", c, "add_embedding.linear_2")
	t.weightBias(asIs, p+"out.0", c, "conv_norm_out")
	t.weightBias(asIs, p+"out.2", c, "conv_out")

	for i, lvl := range top.unet.down {
		down := "down_blocks." + itoa(i) + "."
		for j, n := range lvl.blocks {
			block := p + "input_blocks." + itoa(n) + "."
			t.unetResBlock(block+"0", down+"resnets."+itoa(j))
			if lvl.depth > 0 {
				t.unetTransformer(block+"1", down+"attentions."+itoa(j), lvl.depth)
			}
		}
		if lvl.sampler >= 0 {
			t.weightBias(asIs, p+"input_blocks."+itoa(lvl.sampler)+lvl.samplerSlot, c, down+"downsamplers.0.conv")
		}
	}

	t.unetResBlock(p+"middle_block.0", "mid_block.resnets.0")
	t.unetTransformer(p+"middle_block.1", "mid_block.attentions.0", top.unet.midDepth)
	t.unetResBlock(p+"middle_block.2", "mid_block.resnets.1")

	// diffusers up block i is the i-th output level, deepest first.
	for i, lvl := range top.unet.up {
		up := "up_blocks." + itoa(i) + "."
		for j, n := range lvl.blocks {
			block := p + "output_blocks." + itoa(n) + "."
			t.unetResBlock(block+"0", up+"resnets."+itoa(j))
			if lvl.depth > 0 {
				t.unetTransformer(block+"1", up+"attentions."+itoa(j), lvl.depth)
			}
		}
		if lvl.sampler >= 0 {
			t.weightBias(asIs, p+"output_blocks."+itoa(lvl.sampler)+lvl.samplerSlot, c, up+"upsamplers.0.conv")
		}
	}
}

func (t *table) unetResBlock(canonical, from string) {
	const c = "unet"
	t.weightBias(asIs, canonical+".in_layers.0", c, from+".norm1")
	t.weightBias(asIs, canonical+".in_layers.2", c, from+".conv1")
	t.weightBias(asIs, canonical+".emb_layers.1", c, from+".time_emb_proj")
	t.weightBias(asIs, canonical+".out_layers.0", c, from+".norm2")
	t.weightBias(asIs, canonical+".out_layers.3", c, from+".conv2")
	t.weightBias(asIs, canonical+".skip_connection", c, from+".conv_shortcut")
}

// unetTransformer maps a spatial transformer, whose names are the same in
// both layouts below its prefix.
func (t *table) unetTransformer(canonical, from string, depth int) {
	const c = "unet"
	same := func(suffix string) { t.weightBias(asIs, canonical+"."+suffix, c, from+"."+suffix) }
	same("norm")
	same("proj_in")
	for k := 0; k < depth; k++ {
		b := "transformer_blocks." + itoa(k) + "."
		for _, part := range []string{"norm1", "norm2", "norm3", "ff.net.0.proj", "ff.net.2"} {
			same(b + part)
		}
		for _, attn := range []string{"attn1.", "attn2."} {
			for _, part := range []string{"to_q", "to_k", "to_v", "to_out.0"} {
				same(b + attn + part)
			}
		}
	}
	same("proj_out")
}

// textEncoder1 maps transformers' CLIPTextModel, whose names SGM keeps
// under its own prefix.
func (t *table) textEncoder1(layers int) {
	const c = "text_encoder"
	same := func(suffix string) {
		t.add(asIs, TextEncoder1Prefix+suffix, diffusersKey{c, "text_model." + suffix})
	}
	same("embeddings.token_embedding.weight")
	same("embeddings.position_embedding.weight")
	same("embeddings.position_ids")
	for n := 0; n < layers; n++ {
		l := "encoder.layers." + itoa(n) + "."
		for _, part := range []string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
			"layer_norm1", "mlp.fc1", "mlp.fc2", "layer_norm2"} {
			same(l + part + ".weight")
			same(l + part + ".bias")
		}
	}
	same("final_layer_norm.weight")
	same("final_layer_norm.bias")
}

// textEncoder2 maps transformers' CLIPTextModelWithProjection to OpenCLIP
// names: q/k/v fused into in_proj (rows q, k, v) and the projection
// transposed to [width, proj].
func (t *table) textEncoder2(layers int) {
	const c = "text_encoder_2"
	key := func(name string) diffusersKey { return diffusersKey{c, name} }
	p := TextEncoder2Prefix
	t.add(asIs, p+"token_embedding.weight", key("text_model.embeddings.token_embedding.weight"))
	t.add(asIs, p+"positional_embedding", key("text_model.embeddings.position_embedding.weight"))
	for n := 0; n < layers; n++ {
		from := "text_model.encoder.layers." + itoa(n) + "."
		to := p + "transformer.resblocks." + itoa(n) + "."
		for _, s := range []string{"weight", "bias"} {
			t.add(fuseRows, to+"attn.in_proj_"+s,
				key(from+"self_attn.q_proj."+s), key(from+"self_attn.k_proj."+s), key(from+"self_attn.v_proj."+s))
		}
		t.weightBias(asIs, to+"attn.out_proj", c, from+"self_attn.out_proj")
		t.weightBias(asIs, to+"ln_1", c, from+"layer_norm1")
		t.weightBias(asIs, to+"mlp.c_fc", c, from+"mlp.fc1")
		t.weightBias(asIs, to+"mlp.c_proj", c, from+"mlp.fc2")
		t.weightBias(asIs, to+"ln_2", c, from+"layer_norm2")
	}
	t.weightBias(asIs, p+"ln_final", c, "text_model.final_layer_norm")
	t.add(transpose, p+"text_projection", key("text_projection.weight"))
}

// vae maps AutoencoderKL. The decoder's up blocks run in opposite order:
// diffusers up_blocks.i is SGM decoder.up.(levels-1-i).
func (t *table) vae(top topology) {
	const c = "vae"
	p := VAEPrefix
	for _, coder := range []string{"encoder.", "decoder."} {
		t.weightBias(asIs, p+coder+"conv_in", c, coder+"conv_in")
		t.vaeResBlock(p+coder+"mid.block_1", coder+"mid_block.resnets.0")
		t.vaeResBlock(p+coder+"mid.block_2", coder+"mid_block.resnets.1")
		attn := coder + "mid_block.attentions.0."
		to := p + coder + "mid.attn_1."
		t.weightBias(asIs, to+"norm", c, attn+"group_norm")
		t.weightBias(linearToConv, to+"q", c, attn+"to_q")
		t.weightBias(linearToConv, to+"k", c, attn+"to_k")
		t.weightBias(linearToConv, to+"v", c, attn+"to_v")
		t.weightBias(linearToConv, to+"proj_out", c, attn+"to_out.0")
		t.weightBias(asIs, p+coder+"norm_out", c, coder+"conv_norm_out")
		t.weightBias(asIs, p+coder+"conv_out", c, coder+"conv_out")
	}
	L, R := top.vaeLevels, top.vaeResBlocks
	for i := 0; i < L; i++ {
		down := "encoder.down_blocks." + itoa(i) + "."
		for j := 0; j < R; j++ {
			t.vaeResBlock(p+"encoder.down."+itoa(i)+".block."+itoa(j), down+"resnets."+itoa(j))
		}
		if i < L-1 {
			t.weightBias(asIs, p+"encoder.down."+itoa(i)+".downsample.conv", c, down+"downsamplers.0.conv")
		}
	}
	for i := 0; i < L; i++ {
		up := "decoder.up_blocks." + itoa(i) + "."
		to := p + "decoder.up." + itoa(L-1-i) + "."
		for j := 0; j <= R; j++ {
			t.vaeResBlock(to+"block."+itoa(j), up+"resnets."+itoa(j))
		}
		if i < L-1 {
			t.weightBias(asIs, to+"upsample.conv", c, up+"upsamplers.0.conv")
		}
	}
	t.weightBias(asIs, p+"quant_conv", c, "quant_conv")
	t.weightBias(asIs, p+"post_quant_conv", c, "post_quant_conv")
}

func (t *table) vaeResBlock(canonical, from string) {
	const c = "vae"
	for _, part := range []string{"norm1", "conv1", "norm2", "conv2"} {
		t.weightBias(asIs, canonical+"."+part, c, from+"."+part)
	}
	t.weightBias(asIs, canonical+".nin_shortcut", c, from+".conv_shortcut")
}
