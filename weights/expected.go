package weights

import "github.com/gosdxl/gosdxl/tensor"

// ExpectedTensors spells out every tensor an SDXL checkpoint of
// configuration cfg must have, with its shape, under canonical names. It is
// the reference the loaders are checked against: nothing missing, nothing
// mis-shaped, nothing else in the file (apart from Ignorable keys).
func ExpectedTensors(cfg Config) map[string]tensor.Shape {
	e := expected{}
	e.unet(cfg.UNet)
	e.textEncoder1(cfg.TextEncoder1)
	e.textEncoder2(cfg.TextEncoder2)
	e.vae(cfg.VAE)
	return e
}

type expected map[string]tensor.Shape

func (e expected) add(name string, shape ...int) { e[name] = tensor.Shape(shape) }

// linear adds a Linear layer's weight [out, in] and bias [out].
func (e expected) linear(name string, out, in int) {
	e.add(name+".weight", out, in)
	e.add(name+".bias", out)
}

// conv adds a convolution's weight [out, in, k, k] and bias [out].
func (e expected) conv(name string, out, in, k int) {
	e.add(name+".weight", out, in, k, k)
	e.add(name+".bias", out)
}

// norm adds a normalisation layer's scale and shift.
func (e expected) norm(name string, ch int) {
	e.add(name+".weight", ch)
	e.add(name+".bias", ch)
}

func (e expected) unet(u UNetConfig) {
	if len(u.Channels) == 0 || len(u.TransformerDepth) != len(u.Channels) {
		return // no UNet configuration: nothing can be expected
	}
	p := UNetPrefix
	c0, T := u.Channels[0], u.TimeEmbedDim
	e.conv(p+"input_blocks.0.0", c0, u.InChannels, 3)
	e.linear(p+"time_embed.0", T, c0)
	e.linear(p+"time_embed.2", T, T)
	e.linear(p+"label_emb.0.0", T, u.ADMInChannels)
	e.linear(p+"label_emb.0.2", T, T)

	// skips holds the width of every input block's output, which the
	// output blocks take back (last first) through concatenation.
	skips := []int{c0}
	ch, R, L := c0, u.ResBlocksPerLevel, len(u.Channels)
	for i, out := range u.Channels {
		for j := 0; j < R; j++ {
			block := p + "input_blocks." + itoa(1+i*(R+1)+j)
			e.resBlock(block+".0", ch, out, T)
			if u.TransformerDepth[i] > 0 {
				e.transformer(block+".1", out, u.TransformerDepth[i], u.ContextDim)
			}
			ch = out
			skips = append(skips, ch)
		}
		if i < L-1 {
			e.conv(p+"input_blocks."+itoa(1+i*(R+1)+R)+".0.op", ch, ch, 3)
			skips = append(skips, ch)
		}
	}

	e.resBlock(p+"middle_block.0", ch, ch, T)
	e.transformer(p+"middle_block.1", ch, u.MidTransformerDepth, u.ContextDim)
	e.resBlock(p+"middle_block.2", ch, ch, T)

	for i := 0; i < L; i++ {
		level := L - 1 - i
		out := u.Channels[level]
		for j := 0; j <= R; j++ {
			block := p + "output_blocks." + itoa(i*(R+1)+j)
			skip := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			e.resBlock(block+".0", ch+skip, out, T)
			ch = out
			if u.TransformerDepth[level] > 0 {
				e.transformer(block+".1", out, u.TransformerDepth[level], u.ContextDim)
			}
		}
		if level > 0 {
			slot := ".1.conv"
			if u.TransformerDepth[level] > 0 {
				slot = ".2.conv"
			}
			e.conv(p+"output_blocks."+itoa(i*(R+1)+R)+slot, ch, ch, 3)
		}
	}
	e.norm(p+"out.0", ch)
	e.conv(p+"out.2", u.OutChannels, ch, 3)
}

// resBlock adds a UNet ResBlock from in to out channels with time
// embedding width T; a 1x1 skip convolution exists when in != out.
func (e expected) resBlock(name string, in, out, T int) {
	e.norm(name+".in_layers.0", in)
	e.conv(name+".in_layers.2", out, in, 3)
	e.linear(name+".emb_layers.1", out, T)
	e.norm(name+".out_layers.0", out)
	e.conv(name+".out_layers.3", out, out, 3)
	if in != out {
		e.conv(name+".skip_connection", out, in, 1)
	}
}

// transformer adds a spatial transformer of width c (linear projections),
// depth blocks, cross-attending to a context of width ctx.
func (e expected) transformer(name string, c, depth, ctx int) {
	e.norm(name+".norm", c)
	e.linear(name+".proj_in", c, c)
	for k := 0; k < depth; k++ {
		b := name + ".transformer_blocks." + itoa(k) + "."
		e.norm(b+"norm1", c)
		e.add(b+"attn1.to_q.weight", c, c)
		e.add(b+"attn1.to_k.weight", c, c)
		e.add(b+"attn1.to_v.weight", c, c)
		e.linear(b+"attn1.to_out.0", c, c)
		e.norm(b+"norm2", c)
		e.add(b+"attn2.to_q.weight", c, c)
		e.add(b+"attn2.to_k.weight", c, ctx)
		e.add(b+"attn2.to_v.weight", c, ctx)
		e.linear(b+"attn2.to_out.0", c, c)
		e.norm(b+"norm3", c)
		e.linear(b+"ff.net.0.proj", 8*c, c) // GEGLU: value and gate, 4c each
		e.linear(b+"ff.net.2", c, 4*c)
	}
	e.linear(name+".proj_out", c, c)
}

func (e expected) textEncoder1(t TextEncoderConfig) {
	p := TextEncoder1Prefix
	H := t.Hidden
	e.add(p+"embeddings.token_embedding.weight", t.Vocab, H)
	e.add(p+"embeddings.position_embedding.weight", t.Positions, H)
	for n := 0; n < t.Layers; n++ {
		l := p + "encoder.layers." + itoa(n) + "."
		e.linear(l+"self_attn.q_proj", H, H)
		e.linear(l+"self_attn.k_proj", H, H)
		e.linear(l+"self_attn.v_proj", H, H)
		e.linear(l+"self_attn.out_proj", H, H)
		e.norm(l+"layer_norm1", H)
		e.linear(l+"mlp.fc1", t.Intermediate, H)
		e.linear(l+"mlp.fc2", H, t.Intermediate)
		e.norm(l+"layer_norm2", H)
	}
	e.norm(p+"final_layer_norm", H)
}

func (e expected) textEncoder2(t TextEncoderConfig) {
	p := TextEncoder2Prefix
	H := t.Hidden
	e.add(p+"token_embedding.weight", t.Vocab, H)
	e.add(p+"positional_embedding", t.Positions, H)
	for n := 0; n < t.Layers; n++ {
		l := p + "transformer.resblocks." + itoa(n) + "."
		e.add(l+"attn.in_proj_weight", 3*H, H)
		e.add(l+"attn.in_proj_bias", 3*H)
		e.linear(l+"attn.out_proj", H, H)
		e.norm(l+"ln_1", H)
		e.linear(l+"mlp.c_fc", t.Intermediate, H)
		e.linear(l+"mlp.c_proj", H, t.Intermediate)
		e.norm(l+"ln_2", H)
	}
	e.norm(p+"ln_final", H)
	e.add(p+"text_projection", H, t.Projection) // [width, proj]: pooled = x @ P
}

func (e expected) vae(v VAEConfig) {
	if len(v.Channels) == 0 {
		return
	}
	p := VAEPrefix
	L, R, z := len(v.Channels), v.ResBlocksPerLevel, v.LatentChannels
	const rgb = 3
	ch := v.Channels[0]
	e.conv(p+"encoder.conv_in", ch, rgb, 3)
	for i, out := range v.Channels {
		for j := 0; j < R; j++ {
			e.vaeResBlock(p+"encoder.down."+itoa(i)+".block."+itoa(j), ch, out)
			ch = out
		}
		if i < L-1 {
			e.conv(p+"encoder.down."+itoa(i)+".downsample.conv", ch, ch, 3)
		}
	}
	e.vaeMid(p+"encoder.mid.", ch)
	e.norm(p+"encoder.norm_out", ch)
	e.conv(p+"encoder.conv_out", 2*z, ch, 3) // mean and log-variance
	e.conv(p+"quant_conv", 2*z, 2*z, 1)
	e.conv(p+"post_quant_conv", z, z, 1)

	e.conv(p+"decoder.conv_in", ch, z, 3)
	e.vaeMid(p+"decoder.mid.", ch)
	for i := L - 1; i >= 0; i-- {
		out := v.Channels[i]
		for j := 0; j <= R; j++ {
			e.vaeResBlock(p+"decoder.up."+itoa(i)+".block."+itoa(j), ch, out)
			ch = out
		}
		if i > 0 {
			e.conv(p+"decoder.up."+itoa(i)+".upsample.conv", ch, ch, 3)
		}
	}
	e.norm(p+"decoder.norm_out", ch)
	e.conv(p+"decoder.conv_out", rgb, ch, 3)
}

func (e expected) vaeResBlock(name string, in, out int) {
	e.norm(name+".norm1", in)
	e.conv(name+".conv1", out, in, 3)
	e.norm(name+".norm2", out)
	e.conv(name+".conv2", out, out, 3)
	if in != out {
		e.conv(name+".nin_shortcut", out, in, 1)
	}
}

// vaeMid adds the middle of the encoder or decoder: two ResBlocks around a
// single-head attention whose projections are stored as 1x1 convolutions.
func (e expected) vaeMid(prefix string, ch int) {
	e.vaeResBlock(prefix+"block_1", ch, ch)
	e.norm(prefix+"attn_1.norm", ch)
	for _, proj := range []string{"q", "k", "v", "proj_out"} {
		e.conv(prefix+"attn_1."+proj, ch, ch, 1)
	}
	e.vaeResBlock(prefix+"block_2", ch, ch)
}
