package kernels

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// gemmShape is one GEMM (or implicit-GEMM convolution) the model runs.
type gemmShape struct {
	name    string
	M, N, K int
	// streamK: a plain GEMM (gemm.cu's Linear epilogue) or a pointwise
	// convolution, which is one; the stream-K kernel (streamk.cu) takes
	// these, not the fused q/k/v or GEGLU GEMMs nor the im2col convolutions.
	streamK bool
}

// SDXL base at 1024×1024 with classifier-free guidance (UNet batch 2): the
// UNet of SGM's layout (sdxl/unet_layout.go) with channels 320/640/1280 on
// 128², 64² and 32² latents, transformer depths 0/2/10, context 2048, time
// embedding 1280; and the VAE decoder (channels 128/256/512/512) from the
// 128² latent to the 1024² image, one image.
const (
	sdxlBatch      = 2
	sdxlLatent     = 128
	sdxlContext    = 2048
	sdxlTextTokens = 77
	sdxlTimeEmbed  = 1280
)

var (
	sdxlChannels = []int{320, 640, 1280}
	sdxlDepth    = []int{0, 2, 10}
	vaeChannels  = []int{128, 256, 512, 512}
)

// shapeSet collects distinct shapes (the same GEMM at many layers is one).
type shapeSet struct {
	list []gemmShape
	seen map[[3]int]bool
}

// add adds a plain GEMM (a Linear).
func (s *shapeSet) add(name string, M, N, K int) { s.addKind(name, M, N, K, true) }

func (s *shapeSet) addKind(name string, M, N, K int, streamK bool) {
	if s.seen == nil {
		s.seen = map[[3]int]bool{}
	}
	if k := [3]int{M, N, K}; !s.seen[k] {
		s.seen[k] = true
		s.list = append(s.list, gemmShape{name, M, N, K, streamK})
	}
}

// conv adds a KxK convolution producing b images of side×side pixels (a
// 1x1 one, stride 1 without padding, is a plain GEMM).
func (s *shapeSet) conv(name string, b, side, cin, cout, k int) {
	s.addKind(fmt.Sprintf("%s conv%dx%d %d→%d @%d²", name, k, k, cin, cout, side), b*side*side, cout, k*k*cin, k == 1)
}

// resBlock adds a ResBlock's convolutions (and its time-embedding linear).
func (s *shapeSet) resBlock(name string, b, side, cin, cout int, emb bool) {
	s.conv(name+" res", b, side, cin, cout, 3)
	s.conv(name+" res", b, side, cout, cout, 3)
	if cin != cout {
		s.conv(name+" skip", b, side, cin, cout, 1)
	}
	if emb {
		s.add(fmt.Sprintf("%s res time-emb %d→%d", name, sdxlTimeEmbed, cout), b, cout, sdxlTimeEmbed)
	}
}

// transformer adds a SpatialTransformer's linears on tokens = b·side².
func (s *shapeSet) transformer(name string, b, side, c int) {
	t := b * side * side
	at := fmt.Sprintf("@%d²", side)
	s.add(fmt.Sprintf("%s proj/attn-out %d %s", name, c, at), t, c, c)
	// Self-attention's q, k and v: one GEMM of the three weights (gemm_qkv).
	s.addKind(fmt.Sprintf("%s fused q/k/v %d→%d %s", name, c, 3*c, at), t, 3*c, c, false)
	s.add(fmt.Sprintf("%s cross k/v %d→%d", name, sdxlContext, c), b*sdxlTextTokens, c, sdxlContext)
	s.addKind(fmt.Sprintf("%s ff GEGLU %d→%d %s", name, c, 8*c, at), t, 8*c, c, false)
	s.add(fmt.Sprintf("%s ff out %d→%d %s", name, 4*c, c, at), t, c, 4*c)
}

func sdxlShapes() []gemmShape {
	var s shapeSet
	b, ch := sdxlBatch, sdxlChannels
	side := func(l int) int { return sdxlLatent >> l }

	// Time and size embeddings: 320 sinusoids → 1280 → 1280; ADM 2816 → 1280 → 1280.
	s.add("time-emb 320→1280", b, sdxlTimeEmbed, ch[0])
	s.add("time-emb 1280→1280", b, sdxlTimeEmbed, sdxlTimeEmbed)
	s.add("label-emb 2816→1280", b, sdxlTimeEmbed, 2816)

	// Input blocks.
	s.conv("unet conv_in", b, side(0), 4, ch[0], 3)
	skips := []int{ch[0]}
	prev := ch[0]
	for l, c := range ch {
		for range 2 {
			s.resBlock("unet down", b, side(l), prev, c, true)
			if sdxlDepth[l] > 0 {
				s.transformer("unet down", b, side(l), c)
			}
			prev = c
			skips = append(skips, c)
		}
		if l != len(ch)-1 {
			s.conv("unet downsample", b, side(l+1), c, c, 3) // stride 2: output at the next level
			skips = append(skips, c)
		}
	}
	// Middle block.
	s.resBlock("unet mid", b, side(2), prev, prev, true)
	s.transformer("unet mid", b, side(2), prev)
	// Output blocks: every ResBlock takes the running features ‖ a skip.
	for l := len(ch) - 1; l >= 0; l-- {
		for range 3 {
			skip := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			s.resBlock("unet up", b, side(l), prev+skip, ch[l], true)
			prev = ch[l]
			if sdxlDepth[l] > 0 {
				s.transformer("unet up", b, side(l), ch[l])
			}
		}
		if l > 0 {
			s.conv("unet upsample", b, side(l-1), ch[l], ch[l], 3)
		}
	}
	s.conv("unet conv_out", b, side(0), ch[0], 4, 3)

	// VAE decoder, one image: post_quant_conv, conv_in, mid (2 ResBlocks and
	// a single-head attention on 128² tokens), then levels from the deepest,
	// 3 ResBlocks each and an upsampling conv at the doubled side.
	vs := sdxlLatent
	top := vaeChannels[len(vaeChannels)-1]
	s.conv("vae post_quant", 1, vs, 4, 4, 1)
	s.conv("vae conv_in", 1, vs, 4, top, 3)
	s.resBlock("vae mid", 1, vs, top, top, false)
	s.add(fmt.Sprintf("vae mid attention q/k/v/out %d @%d²", top, vs), vs*vs, top, top)
	prev = top
	for l := len(vaeChannels) - 1; l >= 0; l-- {
		for range 3 {
			s.resBlock("vae up", 1, vs, prev, vaeChannels[l], false)
			prev = vaeChannels[l]
		}
		if l > 0 {
			vs *= 2
			s.conv("vae upsample", 1, vs, prev, prev, 3)
		}
	}
	s.conv("vae conv_out", 1, vs, prev, 3, 3)
	return s.list
}

// waveExempt names the shapes too small (or too narrow) for any tile choice
// to fill 132 SMs to 90%, with the reason.
func waveExempt(sh gemmShape) string {
	switch {
	case sh.M <= 2*sdxlBatch:
		return "M = batch rows: one row of tiles, the machine cannot be filled"
	case sh.N <= 4:
		return "N ≤ 4 output channels: a tile's columns are almost all padding"
	case sh.M == sdxlBatch*sdxlTextTokens:
		return "M = 2×77 text tokens: even 64-row tiles are 20% padding"
	}
	return ""
}

// plannedChoice is what the launchers run for sh on sms SMs: the tile
// planner's choice, or stream-K where the stream-K kernel takes the shape
// and the model prefers it. The occupancy query answers at least one block
// per SM for every tile (two on an H100/H200: 48-64 KB of shared memory,
// at most 128 registers a thread), so the stream-K grid is one block per SM.
func plannedChoice(sh gemmShape, sms int) (string, float64) {
	c := chooseTiles(sh.M, sh.N, sh.K, sms)
	if sh.streamK {
		if sk, ok := chooseStreamK(sh.M, sh.N, sh.K, sms, func(blockTile) int { return sms }, c); ok {
			return sk.String(), streamkEfficiency(sh.M, sh.N, sh.K, sms, sk)
		}
	}
	return c.String(), waveEfficiency(sh.M, sh.N, sh.K, sms, c)
}

// Every SDXL GEMM and convolution that can fill the machine fills at least
// 90% of its waves, on an H100/H200 (132 SMs), an H100 PCIe (114) and an
// A100 (108). With the tiles and split-K alone, the 32² level's 1280-wide
// attention-output and projection GEMMs and its 640→1280 skip convolution
// stay at 80.8% on 132 SMs (K ≤ 1280: split-K's partials of every output
// cost more than the idle SMs); stream-K fills them to 98.9-100%, moving
// at most two partial tiles per block.
func TestChooseTilesFillsSDXLShapes(t *testing.T) {
	shapes := sdxlShapes()
	if len(shapes) < 40 {
		t.Fatalf("only %d SDXL shapes listed", len(shapes))
	}
	for _, sms := range []int{132, 114, 108} {
		t.Logf("%d SMs: %-48s %7s %5s %6s  %-42s %s", sms, "shape", "M", "N", "K", "choice", "old 128x128 → new")
		streamK := 0
		for _, sh := range shapes {
			choice, eff := plannedChoice(sh, sms)
			old := waveEfficiency(sh.M, sh.N, sh.K, sms, splitOf(blockTiles[0], sh.K, 1))
			note := waveExempt(sh)
			if strings.Contains(choice, "stream-K") {
				streamK++
			}
			t.Logf("%d SMs: %-48s %7d %5d %6d  %-42s %5.1f%% → %5.1f%% %s", sms, sh.name, sh.M, sh.N, sh.K, choice, 100*old, 100*eff, note)
			if eff+1e-9 < old {
				t.Errorf("%d SMs: %s: chose %v at %.1f%%, below the 128x128 tile's %.1f%%", sms, sh.name, choice, 100*eff, 100*old)
			}
			if eff < 0.90 && note == "" {
				t.Errorf("%d SMs: %s (M=%d N=%d K=%d): %v fills only %.1f%% of the waves", sms, sh.name, sh.M, sh.N, sh.K, choice, 100*eff)
			}
		}
		t.Logf("%d SMs: %d of %d shapes run stream-K", sms, streamK, len(shapes))
	}
}

func TestChooseTilesTable(t *testing.T) {
	cases := []struct {
		M, N, K, sms int
		want         string
	}{
		{4096, 4096, 4096, 132, "128x128"},            // 1024 tiles: 7.76 waves either way, the big tile wins the tie
		{32768, 320, 2880, 132, "128x64"},             // 5 column tiles of 64 instead of 3 of 128 (83% used)
		{2048, 1280, 11520, 132, "128x128 split-K 4"}, // long K: 160 tiles → 640 blocks, 97% of 5 waves
		{2048, 1280, 1280, 132, "128x64"},             // short K: the partials cost more than the idle SMs (stream-K runs it)
		{64, 128, 4096, 4, "64x128 split-K 4"},        // one tile on 4 SMs: split K four ways
		{2, 1280, 320, 132, "128x64"},                 // cannot fill anything: no split below 8 K steps
	}
	for _, c := range cases {
		if got := chooseTiles(c.M, c.N, c.K, c.sms).String(); got != c.want {
			t.Errorf("M=%d N=%d K=%d on %d SMs: got %s, want %s", c.M, c.N, c.K, c.sms, got, c.want)
		}
	}
}

func TestSplitOfCoversK(t *testing.T) {
	for _, K := range []int{1, 31, 32, 33, 36, 640, 1000, 11520} {
		for s := 1; s <= maxSplits; s++ {
			c := splitOf(blockTiles[1], K, s)
			steps := ceilDiv(K, tileK)
			if c.splits < 1 || c.splits > s || c.splits*c.kSteps < steps || (c.splits-1)*c.kSteps >= steps {
				t.Errorf("K=%d in %d splits: %d splits of %d steps do not cover %d steps without an empty split", K, s, c.splits, c.kSteps, steps)
			}
		}
	}
}

func TestWaveEfficiency(t *testing.T) {
	// 2048x1280 with 128x128 tiles: 160 blocks on 132 SMs run 2 waves.
	if got, want := waveEfficiency(2048, 1280, 1280, 132, splitOf(blockTiles[0], 1280, 1)), 160.0/264; math.Abs(got-want) > 1e-12 {
		t.Errorf("got %v, want %v", got, want)
	}
	// Row padding counts: 100 of 128 rows used, one block on one SM.
	if got, want := waveEfficiency(100, 128, 64, 1, splitOf(blockTiles[0], 64, 1)), 100.0/128; math.Abs(got-want) > 1e-12 {
		t.Errorf("got %v, want %v", got, want)
	}
	// K split 3 ways over 10 steps: splits of 4, 4, 2 steps (capacity 3×4).
	if got, want := waveEfficiency(128, 128, 320, 3, splitOf(blockTiles[0], 320, 3)), 10.0/12; math.Abs(got-want) > 1e-12 {
		t.Errorf("got %v, want %v", got, want)
	}
}
