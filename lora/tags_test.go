package lora

import (
	"strings"
	"testing"
)

// A1111's extra-network syntax: <lora:name:te:unet>, te=/unet= items,
// multipliers defaulting to 1 and the UNet's to the text encoders'.
func TestParseTags(t *testing.T) {
	cases := []struct {
		in, clean string
		tags      []Tag
	}{
		{"1girl, <lora:a:0.8>, smile", "1girl, , smile", []Tag{{"a", 0.8, 0.8}}},
		{"<lora:a>x", "x", []Tag{{"a", 1, 1}}},
		{"x<lora:a:0.5:1.5>", "x", []Tag{{"a", 0.5, 1.5}}},
		{"x<lora:a:unet=0.3>", "x", []Tag{{"a", 1, 0.3}}},
		{"x<lora:a:te=0.2:unet=-1>", "x", []Tag{{"a", 0.2, -1}}},
		{"x<lyco:b:-2>", "x", []Tag{{"b", -2, -2}}},
		{"no tags (word:1.2)", "no tags (word:1.2)", nil},
	}
	for _, c := range cases {
		clean, tags, err := ParseTags(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if clean != c.clean || len(tags) != len(c.tags) {
			t.Errorf("%q: %q %v, want %q %v", c.in, clean, tags, c.clean, c.tags)
			continue
		}
		for i := range tags {
			if tags[i] != c.tags[i] {
				t.Errorf("%q: tag %+v, want %+v", c.in, tags[i], c.tags[i])
			}
		}
	}
	for in, want := range map[string]string{
		"<lora:a:x>":          "not a number",
		"<lora:a:10.5>":       "outside [-10, 10]",
		"<lora:a:nan>":        "not a number",
		"<lora:../a:1>":       "path separators",
		`<lora:sub\a:1>`:      "path separators",
		"<lora:a:1:1:4>":      "dynamic rank",
		"<hypernet:h:1>":      "only <lora:",
		"<lora:a:strength=1>": "unknown item",
	} {
		if _, _, err := ParseTags(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestCloseMatches(t *testing.T) {
	names := []string{"frieren_v2", "Frieren", "fern", "style_watercolor", "other"}
	got := closeMatches("frieren", names)
	if len(got) < 2 || !contains(got, "frieren_v2") || !contains(got, "Frieren") || contains(got, "other") {
		t.Errorf("close matches of frieren: %v", got)
	}
	if got := closeMatches("watercolour", names); len(got) != 0 && !contains(got, "style_watercolor") {
		t.Errorf("close matches of watercolour: %v", got)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
