package infotext

import (
	"reflect"
	"testing"
)

// The expected strings follow A1111's create_infotext and quote(): fields
// joined by ", ", values with ',', ':' or a newline JSON-quoted, the
// negative line only when there is a negative prompt.
func TestParametersStringA1111Format(t *testing.T) {
	p := Parameters{
		Prompt:       "1girl, firefly \\(honkai: star rail\\), masterpiece",
		Negative:     "lowres, bad anatomy",
		Steps:        28,
		Sampler:      "Euler a",
		ScheduleType: "Automatic",
		CFGScale:     5,
		Seed:         123,
		Width:        832,
		Height:       1216,
		ModelHash:    "1449e5b0b9",
		Model:        "animagine-xl-4.0",
		RNG:          "CPU",
		Extra:        []Field{{"Note", `say "hi", then: go`}},
	}
	want := "1girl, firefly \\(honkai: star rail\\), masterpiece\n" +
		"Negative prompt: lowres, bad anatomy\n" +
		"Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 123, " +
		"Size: 832x1216, Model hash: 1449e5b0b9, Model: animagine-xl-4.0, RNG: CPU, " +
		`Note: "say \"hi\", then: go"`
	if got := p.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	p.Negative = ""
	p.CFGScale = 5.5
	p.DenoisingStrength = 0.75
	p.Extra = nil
	p.Model = "odd, name: v2"
	want = "1girl, firefly \\(honkai: star rail\\), masterpiece\n" +
		"Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5.5, Seed: 123, " +
		"Size: 832x1216, Model hash: 1449e5b0b9, Model: odd name v2, Denoising strength: 0.75, RNG: CPU"
	if got := p.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseParametersRoundTrip(t *testing.T) {
	p := Parameters{
		Prompt:            "multi\nline, prompt",
		Negative:          "neg: one\nneg two",
		Steps:             6,
		Sampler:           "DPM++ 2M",
		ScheduleType:      "Karras",
		CFGScale:          4.5,
		Seed:              18446744073709551615,
		Width:             192,
		Height:            128,
		ModelHash:         "0123456789",
		Model:             "tiny-sdxl-a",
		DenoisingStrength: 0.6,
		RNG:               "CPU",
		Extra:             []Field{{"Compat", "diffusers"}, {"Prompt syntax", "none, really"}},
	}
	got, err := Parse(p.String())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("got  %+v\nwant %+v", got, p)
	}
}

// A parameter line written by A1111 itself (from its own documentation).
func TestParseParametersA1111Sample(t *testing.T) {
	s := "girl with an artist's beret, determined, blue eyes, ((eyeshadow)), (coquettish)\n" +
		"Negative prompt: ugly, fat, (((deformed))), [blurry], bad anatomy\n" +
		"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b"
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prompt != "girl with an artist's beret, determined, blue eyes, ((eyeshadow)), (coquettish)" ||
		p.Negative != "ugly, fat, (((deformed))), [blurry], bad anatomy" ||
		p.Steps != 20 || p.Sampler != "Euler a" || p.CFGScale != 7 || p.Seed != 965400086 ||
		p.Width != 512 || p.Height != 512 || p.ModelHash != "45dee52b" {
		t.Errorf("parsed %+v", p)
	}
}

func TestParseParametersBadValues(t *testing.T) {
	for _, s := range []string{
		"p\nSteps: many, Sampler: Euler, Seed: 1",
		"p\nSteps: 3, Sampler: Euler, Seed: -1",
		"p\nSteps: 3, Sampler: Euler, Size: 512",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
	// Fewer than three pairs: the line is prompt text, as in A1111.
	p, err := Parse("just a prompt: with a colon")
	if err != nil || p.Prompt != "just a prompt: with a colon" || p.Steps != 0 {
		t.Errorf("got %+v, %v", p, err)
	}
}
