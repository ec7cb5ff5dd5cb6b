package sdxl

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/prompt"
)

func checkZeros(t *testing.T, name string, v []float32) {
	t.Helper()
	for i, x := range v {
		if x != 0 {
			t.Errorf("%s[%d] = %g, want all zeros", name, i, x)
			return
		}
	}
}

// enc/<i>/*: diffusers' encode_prompt, including the None negative (zeros)
// and the "" negative (encoded), with SyntaxNone.
func TestEncodeMatchesDiffusers(t *testing.T) {
	b := newTestCPU(t)
	enc := tinyTextEncoders(t, b, 0)
	cases := loadReferenceCases(t)
	if len(cases.EncodePrompt) == 0 {
		t.Fatal("no encode_prompt cases")
	}
	for _, c := range cases.EncodePrompt {
		t.Run(fmt.Sprint(c.Index), func(t *testing.T) {
			opt := EncodeOptions{Prompt: cases.Prompts[c.Prompt].Text, Syntax: prompt.SyntaxNone, Width: 192, Height: 128}
			if c.NegativePrompt != nil {
				text := cases.Prompts[*c.NegativePrompt].Text
				opt.Negative = &text
			}
			cond, err := enc.Encode(b, opt)
			if err != nil {
				t.Fatal(err)
			}
			if cond.Tokens != prompt.ContextLength || cond.Width != 192 || cond.PooledWidth != 96 {
				t.Fatalf("shapes: %d tokens × %d, pooled %d", cond.Tokens, cond.Width, cond.PooledWidth)
			}
			g := fmt.Sprintf("enc/%d/", c.Index)
			checkText(t, g+"prompt_embeds", cond.PromptEmbeds, golden(t, g+"prompt_embeds"))
			checkText(t, g+"pooled_prompt_embeds", cond.PooledEmbeds, golden(t, g+"pooled_prompt_embeds"))
			if c.NegativePrompt == nil {
				checkZeros(t, "NegativeEmbeds", cond.NegativeEmbeds)
				checkZeros(t, "NegativePooled", cond.NegativePooled)
				checkZeros(t, g+"negative_prompt_embeds (golden)", golden(t, g+"negative_prompt_embeds").data)
				return
			}
			checkText(t, g+"negative_prompt_embeds", cond.NegativeEmbeds, golden(t, g+"negative_prompt_embeds"))
			checkText(t, g+"negative_pooled_prompt_embeds", cond.NegativePooled, golden(t, g+"negative_pooled_prompt_embeds"))
		})
	}
}

// chunk/long/eos_then_pad: the 153-token prompt in A1111 mode (its one
// bracket pair escaped, so every weight is 1) is 3 chunks encoded separately
// and concatenated, pooled from the first; the negative prompt is padded.
func TestEncodeChunksMatchGolden(t *testing.T) {
	b := newTestCPU(t)
	enc := tinyTextEncoders(t, b, 0)
	cases := loadReferenceCases(t)
	text := strings.NewReplacer("(", `\(`, ")", `\)`).Replace(cases.Prompts["long"].Text)
	neg := "lowres"
	cond, err := enc.Encode(b, EncodeOptions{Prompt: text, Negative: &neg, Width: 1024, Height: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if cond.Tokens != 3*prompt.ContextLength || len(cond.NegativeEmbeds) != len(cond.PromptEmbeds) || cond.NegativeTokens.Chunks() != 3 {
		t.Fatalf("%d tokens, negative %d values for %d", cond.Tokens, len(cond.NegativeEmbeds), len(cond.PromptEmbeds))
	}
	const g = "chunk/long/eos_then_pad/"
	checkText(t, g+"prompt_embeds", cond.PromptEmbeds, golden(t, g+"prompt_embeds"))
	checkText(t, g+"pooled_prompt_embeds", cond.PooledEmbeds, golden(t, g+"pooled_prompt_embeds"))
	// The padded negative chunks 1 and 2 are the empty prompt's encoding.
	empty, err := enc.Encode(b, EncodeOptions{Prompt: "", Syntax: prompt.SyntaxNone, Width: 8, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	chunk := prompt.ContextLength * cond.Width
	for k := 1; k < 3; k++ {
		if rel := relL2(cond.NegativeEmbeds[k*chunk:(k+1)*chunk], empty.PromptEmbeds); rel > 1e-6 {
			t.Errorf("negative padding chunk %d differs from the empty prompt by %g", k, rel)
		}
	}
}

// A1111 emphasis, checked against a float64 recomputation from the
// unweighted encoding of the same tokens: per encoder, z·w rescaled to the
// original mean.
func TestEncodeEmphasis(t *testing.T) {
	b := newTestCPU(t)
	enc := tinyTextEncoders(t, b, 0)
	weighted, err := enc.Encode(b, EncodeOptions{Prompt: "a cat, (red hat:1.5), [[blue]] sky", Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := enc.Encode(b, EncodeOptions{Prompt: "a cat, red hat, blue sky", Syntax: prompt.SyntaxNone, Width: 64, Height: 64})
	if err != nil {
		t.Fatal(err)
	}
	w := weighted.Positive.Weight[0]
	if w[4] != 1.5 || w[5] != 1.5 || math.Abs(float64(w[7])-1/1.21) > 1e-6 {
		t.Fatalf("weights %v", w[:10])
	}
	c1 := enc.CLIPL.TokenEmbedding.Shape().Last()
	width := plain.Width
	want := make([]float64, len(plain.PromptEmbeds))
	for _, part := range [][2]int{{0, c1}, {c1, width}} { // encoder 1, encoder 2
		var before, after float64
		for tok := 0; tok < prompt.ContextLength; tok++ {
			for j := part[0]; j < part[1]; j++ {
				z := float64(plain.PromptEmbeds[tok*width+j])
				before += z
				want[tok*width+j] = z * float64(w[tok])
				after += want[tok*width+j]
			}
		}
		for tok := 0; tok < prompt.ContextLength; tok++ {
			for j := part[0]; j < part[1]; j++ {
				want[tok*width+j] *= before / after
			}
		}
	}
	var num, den float64
	for i, x := range weighted.PromptEmbeds {
		num += (float64(x) - want[i]) * (float64(x) - want[i])
		den += want[i] * want[i]
	}
	if rel := math.Sqrt(num / den); rel > 1e-6 {
		t.Errorf("weighted embeddings differ from the float64 recomputation by %g", rel)
	}
	// Pooled output is not weighted.
	if rel := relL2(weighted.PooledEmbeds, plain.PooledEmbeds); rel > 1e-6 {
		t.Errorf("pooled output changed by weighting: %g", rel)
	}
	checkZeros(t, "NegativeEmbeds", weighted.NegativeEmbeds)
}

func TestEncodeTimeIDsAndErrors(t *testing.T) {
	got := timeIDs(EncodeOptions{Width: 832, Height: 1216})
	if got != [6]float32{1216, 832, 0, 0, 1216, 832} {
		t.Errorf("default time ids %v", got)
	}
	got = timeIDs(EncodeOptions{Width: 192, Height: 128, OriginalWidth: 384, OriginalHeight: 256, CropTop: 16, CropLeft: 32})
	if got != [6]float32{256, 384, 16, 32, 128, 192} {
		t.Errorf("time ids %v", got)
	}

	b := newTestCPU(t)
	enc := tinyTextEncoders(t, b, 0)
	if _, err := enc.Encode(b, EncodeOptions{Prompt: "x"}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Errorf("zero size: err = %v", err)
	}
	bad := "bad \xff"
	if _, err := enc.Encode(b, EncodeOptions{Prompt: "x", Negative: &bad, Width: 8, Height: 8}); err == nil ||
		!strings.Contains(err.Error(), "negative prompt") || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("invalid negative: err = %v", err)
	}
}
