package lora

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Tag is one <lora:NAME:…> of a prompt with its strengths, as A1111's
// extra-networks syntax reads it: <lora:NAME>, <lora:NAME:W> (W for both
// the text encoders and the UNet), <lora:NAME:TE:UNET>, or named
// te=…/unet=… items. The multiplier for absent values is 1, and the UNet's
// defaults to the text encoders'.
type Tag struct {
	Name       string
	Text, UNet float64
}

// extraNetwork is A1111's extra-network pattern <kind:args>.
var extraNetwork = regexp.MustCompile(`<(\w+):([^>]+)>`)

// ParseTags removes every <lora:…> (and A1111's alias <lyco:…>) from
// prompt, as A1111 does before tokenizing (the text around a tag stays as
// it was, commas included), and returns the tags. Other extra-network kinds
// (<hypernet:…>) are refused: gosdxl cannot apply them and silently
// leaving them as prompt text would change the image.
func ParseTags(prompt string) (string, []Tag, error) {
	var tags []Tag
	var problems []string
	clean := extraNetwork.ReplaceAllStringFunc(prompt, func(m string) string {
		sub := extraNetwork.FindStringSubmatch(m)
		kind, args := sub[1], sub[2]
		if kind != "lora" && kind != "lyco" {
			problems = append(problems, fmt.Sprintf("%s: only <lora:…> extra networks are supported", m))
			return ""
		}
		t, err := parseTag(args)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", m, err))
			return ""
		}
		tags = append(tags, t)
		return ""
	})
	if len(problems) > 0 {
		return "", nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return clean, tags, nil
}

func parseTag(args string) (Tag, error) {
	items := strings.Split(args, ":")
	t := Tag{Name: items[0]}
	var positional []string
	named := map[string]string{}
	for _, it := range items[1:] {
		if k, v, ok := strings.Cut(it, "="); ok {
			named[k] = v
		} else {
			positional = append(positional, it)
		}
	}
	num := func(s, what string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s %q is not a number", what, s)
		}
		if math.Abs(v) > MaxStrength {
			return 0, fmt.Errorf("%s %v outside [-%d, %d]", what, v, MaxStrength, MaxStrength)
		}
		return v, nil
	}
	var err error
	t.Text = 1
	if len(positional) > 0 {
		if t.Text, err = num(positional[0], "strength"); err != nil {
			return t, err
		}
	}
	if v, ok := named["te"]; ok {
		if t.Text, err = num(v, "te strength"); err != nil {
			return t, err
		}
	}
	t.UNet = t.Text
	if len(positional) > 1 {
		if t.UNet, err = num(positional[1], "unet strength"); err != nil {
			return t, err
		}
	}
	if v, ok := named["unet"]; ok {
		if t.UNet, err = num(v, "unet strength"); err != nil {
			return t, err
		}
	}
	for k := range named {
		if k != "te" && k != "unet" && k != "dyn" {
			return t, fmt.Errorf("unknown item %q (te=, unet= are known)", k)
		}
	}
	if _, ok := named["dyn"]; ok || len(positional) > 2 {
		return t, fmt.Errorf("dynamic rank (dyn) is not supported")
	}
	return t, CheckName(t.Name)
}

// String writes the tag back the way A1111 users write it.
func (t Tag) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if t.UNet == t.Text {
		return "<lora:" + t.Name + ":" + f(t.Text) + ">"
	}
	return "<lora:" + t.Name + ":" + f(t.Text) + ":" + f(t.UNet) + ">"
}

// CheckName refuses names that are not a plain file name: a tag must not
// reach outside the LoRA folder.
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("empty LoRA name")
	case strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.Contains(name, ".."):
		return fmt.Errorf("LoRA name %q: path separators and .. are not allowed (it names a file in the LoRA folder)", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("LoRA name %q: contains a NUL byte", name)
	}
	return nil
}
