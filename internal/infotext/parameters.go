package infotext

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Parameters are the generation settings stored in a PNG's "parameters"
// text chunk, in the AUTOMATIC1111 web UI's "infotext" format:
//
//	<prompt>
//	Negative prompt: <negative>
//	Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 123, Size: 832x1216, ...
//
// Only fields with a value are written, in A1111's order. As in A1111 an
// empty negative prompt leaves out the "Negative prompt:" line, so "no
// negative prompt" and an empty one read back the same.
type Parameters struct {
	Prompt       string
	Negative     string
	Steps        int
	Sampler      string // A1111 display name: "Euler a", "DPM++ 2M", ...
	ScheduleType string // "Automatic", "Karras", ...
	CFGScale     float64
	Seed         uint64
	Width        int
	Height       int
	ModelHash    string // first 10 hex digits of the checkpoint's SHA-256
	Model        string // checkpoint file name without extension
	// DenoisingStrength is the img2img strength; 0 for txt2img.
	DenoisingStrength float64
	// RNG is "CPU" when the noise came from a torch CPU generator (A1111's
	// "Random number generator source" setting).
	RNG string
	// Extra holds further fields in order: our own (such as "Compat") when
	// writing, and every field not listed above when parsing.
	Extra []Field
}

// Field is one "Key: value" pair of the parameter line.
type Field struct{ Key, Value string }

// Get returns the value of an extra field.
func (p *Parameters) Get(key string) (string, bool) {
	for _, f := range p.Extra {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// fields lists the parameter line in A1111's create_infotext order.
func (p *Parameters) fields() []Field {
	var fs []Field
	add := func(k, v string) {
		if v != "" {
			fs = append(fs, Field{k, v})
		}
	}
	add("Steps", strconv.Itoa(p.Steps))
	add("Sampler", p.Sampler)
	add("Schedule type", p.ScheduleType)
	add("CFG scale", formatFloat(p.CFGScale))
	add("Seed", strconv.FormatUint(p.Seed, 10))
	add("Size", fmt.Sprintf("%dx%d", p.Width, p.Height))
	add("Model hash", p.ModelHash)
	// A1111 strips commas and colons from the model name rather than quoting.
	add("Model", strings.NewReplacer(",", "", ":", "").Replace(p.Model))
	if p.DenoisingStrength > 0 {
		add("Denoising strength", formatFloat(p.DenoisingStrength))
	}
	add("RNG", p.RNG)
	for _, f := range p.Extra {
		add(f.Key, f.Value)
	}
	return fs
}

// String renders the infotext exactly as A1111's create_infotext does.
func (p *Parameters) String() string {
	parts := make([]string, 0, 12)
	for _, f := range p.fields() {
		parts = append(parts, f.Key+": "+quoteValue(f.Value))
	}
	s := p.Prompt
	if p.Negative != "" {
		s += "\nNegative prompt: " + p.Negative
	}
	return strings.TrimSpace(s + "\n" + strings.Join(parts, ", "))
}

// formatFloat writes the shortest form that reads back exactly: 5, 5.5, 0.75
// (A1111 shows whole-number CFG scales without a fraction too).
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// quoteValue is A1111's quote(): a value holding a comma, a colon or a
// newline becomes a JSON string (non-ASCII kept as is).
func quoteValue(v string) string {
	if !strings.ContainsAny(v, ",:\n") {
		return v
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// unquoteValue is A1111's unquote(): a value in double quotes is decoded as
// JSON when it can be, and kept verbatim otherwise.
func unquoteValue(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return v
	}
	return s
}

// paramPattern matches one "Key: value" of the parameter line, a value
// being a quoted string or anything up to the next comma (A1111's re_param).
var paramPattern = regexp.MustCompile(`\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`)

// Parse reads an infotext back. Like A1111 it takes the last line
// as the parameter line when it holds at least three "Key: value" pairs,
// and the lines before as the prompt, up to a line starting "Negative
// prompt:". Known fields with malformed values are errors.
func Parse(s string) (Parameters, error) {
	var p Parameters
	lines := strings.Split(strings.TrimSpace(s), "\n")
	last := lines[len(lines)-1]
	var pairs [][]string
	if m := paramPattern.FindAllStringSubmatch(last, -1); len(m) >= 3 {
		pairs = m
		lines = lines[:len(lines)-1]
	}
	var prompt, negative []string
	inNegative := false
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "Negative prompt:"); ok {
			inNegative = true
			line = strings.TrimSpace(rest)
		}
		if inNegative {
			negative = append(negative, line)
		} else {
			prompt = append(prompt, line)
		}
	}
	p.Prompt = strings.Join(prompt, "\n")
	p.Negative = strings.Join(negative, "\n")
	for _, m := range pairs {
		if err := p.set(m[1], unquoteValue(m[2])); err != nil {
			return p, err
		}
	}
	return p, nil
}

// set stores one parsed field.
func (p *Parameters) set(key, v string) error {
	var err error
	switch key {
	case "Steps":
		p.Steps, err = strconv.Atoi(v)
	case "Sampler":
		p.Sampler = v
	case "Schedule type":
		p.ScheduleType = v
	case "CFG scale":
		p.CFGScale, err = strconv.ParseFloat(v, 64)
	case "Seed":
		p.Seed, err = strconv.ParseUint(v, 10, 64)
	case "Size":
		w, h, ok := strings.Cut(v, "x")
		if !ok {
			return fmt.Errorf("parameters: Size %q is not WIDTHxHEIGHT", v)
		}
		if p.Width, err = strconv.Atoi(w); err == nil {
			p.Height, err = strconv.Atoi(h)
		}
	case "Model hash":
		p.ModelHash = v
	case "Model":
		p.Model = v
	case "Denoising strength":
		p.DenoisingStrength, err = strconv.ParseFloat(v, 64)
	case "RNG":
		p.RNG = v
	default:
		p.Extra = append(p.Extra, Field{key, v})
	}
	if err != nil {
		return fmt.Errorf("parameters: bad %s value %q", key, v)
	}
	return nil
}
