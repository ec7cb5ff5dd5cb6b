package adapters

import (
	"fmt"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
)

// Infotext fields A1111 writes for adapters.
const (
	FieldLoraHashes = "Lora hashes"
	FieldTIHashes   = "TI hashes"
)

// InfotextName is A1111's alias cleaning for the hash lists: no colons or
// commas.
func InfotextName(s string) string { return strings.NewReplacer(":", "", ",", "").Replace(s) }

// Located is a prompt tag with the file it names.
type Located struct {
	Tag  lora.Tag
	Path string
}

// NameError is a tag whose name finds no file (or a file refused).
type NameError struct {
	Name string
	Err  error
}

func (e *NameError) Error() string { return fmt.Sprintf("<lora:%s>: %v", e.Name, e.Err) }
func (e *NameError) Unwrap() error { return e.Err }

// Locate finds each tag's file: in explicit (name → path, the CLI's
// --lora) or else as NAME.safetensors in dir (a name that would leave dir
// is refused; an unknown one is answered with the closest names). A name
// used twice is refused: it is merged once, with one strength.
func Locate(tags []lora.Tag, dir string, explicit map[string]string) ([]Located, error) {
	out := make([]Located, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Name] {
			return nil, fmt.Errorf("LoRA %q is used twice (merge it once, with one strength)", t.Name)
		}
		seen[t.Name] = true
		path, ok := explicit[t.Name]
		if !ok {
			var err error
			if path, err = lora.Find(dir, t.Name, "LoRA"); err != nil {
				return nil, &NameError{Name: t.Name, Err: err}
			}
		}
		out = append(out, Located{Tag: t, Path: path})
	}
	return out, nil
}

// Open opens the located files (checking each fully: format, base model,
// NaN/Inf) and returns them as uses with the "Lora hashes" value, written
// as A1111 writes it (hash is lora.ShortHash or a cache of it). warn hears
// of tensors a file has beyond its modules. On error nothing stays open.
func Open(ls []Located, hash func(path string) (string, error), warn func(string)) ([]lora.Use, string, error) {
	var uses []lora.Use
	fail := func(err error) ([]lora.Use, string, error) {
		Close(uses)
		return nil, "", err
	}
	for _, l := range ls {
		f, err := lora.Open(l.Path)
		if err != nil {
			return fail(fmt.Errorf("LoRA %s: %v", l.Tag.Name, err))
		}
		uses = append(uses, lora.Use{File: f, Name: l.Tag.Name, UNet: l.Tag.UNet, Text: l.Tag.Text})
		if len(f.Unknown) > 0 && warn != nil {
			warn(fmt.Sprintf("LoRA %s: %d tensors are not part of any LoRA/LoHa/LoKr module and are ignored: %s",
				l.Tag.Name, len(f.Unknown), strings.Join(f.Unknown, ", ")))
		}
	}
	hashes, err := Hashes(ls, hash)
	if err != nil {
		return fail(err)
	}
	return uses, hashes, nil
}

// Hashes is the "Lora hashes" value of located files: "name: hash, …".
func Hashes(ls []Located, hash func(path string) (string, error)) (string, error) {
	var out []string
	for _, l := range ls {
		h, err := hash(l.Path)
		if err != nil {
			return "", fmt.Errorf("LoRA %s: %v", l.Tag.Name, err)
		}
		out = append(out, InfotextName(l.Tag.Name)+": "+h)
	}
	return strings.Join(out, ", "), nil
}

// Close unmaps the uses' files.
func Close(uses []lora.Use) {
	for _, u := range uses {
		u.File.Close()
	}
}
