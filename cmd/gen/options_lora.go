package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/internal/adapters"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/sdxl"
)

// Default folders for adapters, beside the default checkpoint folder
// convention (A1111 keeps models/Lora and embeddings/).
const (
	defaultLoRADir      = "models/lora"
	defaultEmbeddingDir = "models/embeddings"
)

// adapterOptions are the LoRA and embedding flags.
type adapterOptions struct {
	loras        loraFlags
	loraDir      string
	embeddingDir string
	fields       []infotext.Field // Lora hashes, TI hashes: for the PNG
}

// loraFlags collects repeated --lora FILE[:STRENGTH] values.
type loraFlags []string

func (l *loraFlags) String() string { return strings.Join(*l, ",") }
func (l *loraFlags) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// registerAdapterFlags declares --lora, --lora-dir and --embedding-dir.
func registerAdapterFlags(fs *flag.FlagSet, a *adapterOptions) {
	fs.Var(&a.loras, "lora", "")
	fs.StringVar(&a.loraDir, "lora-dir", defaultLoRADir, "")
	fs.StringVar(&a.embeddingDir, "embedding-dir", defaultEmbeddingDir, "")
}

const adapterUsage = `Adapters:
      --lora FILE[:W]      merge a LoRA/LoCon/LoHa/LoKr file at strength W (default 1; repeatable);
                           the same as <lora:NAME:W> in the prompt, which names FILE for this run
      --lora-dir DIR       where <lora:NAME:W> prompt tags find NAME.safetensors (default models/lora)
      --embedding-dir DIR  textual-inversion embeddings: NAME.safetensors is used by writing NAME
                           in a prompt (default models/embeddings)
`

// adapterSet is what the flags and the prompt's tags resolved to.
type adapterSet struct {
	prompt string // the prompt without its <lora:…> tags, as the encoders read it
	uses   []lora.Use
	embeds []*lora.Embedding
}

// close unmaps every opened file.
func (a *adapterSet) close() { adapters.Close(a.uses) }

// prepareAdapters resolves --lora flags and <lora:…> tags (checking names,
// strengths and files before any model is loaded) and the embeddings the
// prompts use. Each --lora is recorded in the PNG as the tag it stands for,
// appended to the prompt as A1111 does for its default LoRA, so that
// --from (with the file in --lora-dir) reproduces the image.
func prepareAdapters(o *options) (*adapterSet, error) {
	a := &adapterSet{}
	explicit := map[string]string{} // name → path given by --lora
	_, inPrompt, err := lora.ParseTags(o.prompt)
	if err != nil {
		return nil, usagef("-p: %v", err)
	}
	for _, v := range o.adapters.loras {
		path, strength, err := splitLoRAFlag(v)
		if err != nil {
			return nil, usagef("--lora %s: %v", v, err)
		}
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if err := lora.CheckName(name); err != nil {
			return nil, usagef("--lora %s: %v", v, err)
		}
		if prev, ok := explicit[name]; ok {
			return nil, usagef("--lora %s: %s is already given by --lora %s", v, name, prev)
		}
		explicit[name] = path
		tag := lora.Tag{Name: name, Text: strength, UNet: strength}
		if t, ok := findTag(inPrompt, name); ok {
			// The prompt (say, read by --from) already has the tag: the
			// flag only says where the file is, and must not disagree.
			if strength != 1 && (t.Text != strength || t.UNet != strength) {
				return nil, usagef("--lora %s: the prompt's %s sets another strength", v, t)
			}
			continue
		}
		o.prompt += tag.String()
	}
	clean, tags, err := lora.ParseTags(o.prompt)
	if err != nil {
		return nil, usagef("-p: %v", err)
	}
	a.prompt = clean
	located, err := adapters.Locate(tags, o.adapters.loraDir, explicit)
	var nameErr *adapters.NameError
	switch {
	case errors.As(err, &nameErr):
		return nil, usagef("-p %v (--lora-dir %s)", err, o.adapters.loraDir)
	case err != nil:
		return nil, usagef("-p: %v", err)
	}
	uses, hashes, err := adapters.Open(located, lora.ShortHash, func(w string) { fmt.Fprintf(stderr, "gen: warning: %s\n", w) })
	if err != nil {
		return nil, usageError{err.Error()}
	}
	a.uses = uses
	recorded := recordedHashes(o)
	for _, item := range strings.Split(hashes, ", ") {
		name, h, _ := strings.Cut(item, ": ")
		if want, ok := recorded[name]; ok && want != h {
			fmt.Fprintf(stderr, "gen: warning: LoRA %s has hash %s, the image was made with %s: the result will differ\n", name, h, want)
		}
	}
	if hashes != "" {
		o.adapters.fields = append(o.adapters.fields, infotext.Field{Key: adapters.FieldLoraHashes, Value: hashes})
	}
	if err := a.prepareEmbeddings(o); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// findTag returns the tag naming name.
func findTag(tags []lora.Tag, name string) (lora.Tag, bool) {
	for _, t := range tags {
		if t.Name == name {
			return t, true
		}
	}
	return lora.Tag{}, false
}

// recordedHashes reads "Lora hashes" of the --from image, by name.
func recordedHashes(o *options) map[string]string {
	out := map[string]string{}
	if o.from == "" {
		return out
	}
	p, _, err := readParameters(o.from)
	if err != nil {
		return out
	}
	v, _ := p.Get(adapters.FieldLoraHashes)
	for _, item := range strings.Split(v, ",") {
		if name, h, ok := strings.Cut(strings.TrimSpace(item), ": "); ok {
			out[name] = h
		}
	}
	return out
}

// splitLoRAFlag splits FILE[:STRENGTH]; a colon inside the path (or a
// Windows drive) stays part of it when what follows is not a number.
func splitLoRAFlag(v string) (string, float64, error) {
	path, strength := v, 1.0
	if i := strings.LastIndex(v, ":"); i >= 0 {
		if s, err := strconv.ParseFloat(v[i+1:], 64); err == nil {
			path, strength = v[:i], s
		}
	}
	if _, err := os.Stat(path); err != nil {
		return "", 0, err
	}
	if !(strength >= -lora.MaxStrength && strength <= lora.MaxStrength) {
		return "", 0, fmt.Errorf("strength %v outside [-%d, %d]", strength, lora.MaxStrength, lora.MaxStrength)
	}
	return path, strength, nil
}

// applyAdapters merges the LoRAs into the loaded model and installs the
// embeddings in its text encoders.
func (a *adapterSet) apply(model *sdxl.Model, w io.Writer, quiet bool) error {
	if err := model.SetEmbeddings(a.embeds); err != nil {
		return usageError{err.Error()}
	}
	if len(a.uses) == 0 {
		return nil
	}
	if err := model.ApplyLoRAs(a.uses); err != nil {
		return usageError{err.Error()}
	}
	if !quiet {
		names := make([]string, len(a.uses))
		for i, u := range a.uses {
			names[i] = fmt.Sprintf("%s (te %g, unet %g)", u.Name, u.Text, u.UNet)
		}
		fmt.Fprintf(w, "merged %s\n", strings.Join(names, ", "))
	}
	return nil
}

// prepareEmbeddings loads every embedding in --embedding-dir (a missing
// default folder means none) and records the ones the prompts use.
func (a *adapterSet) prepareEmbeddings(o *options) error {
	dir := o.adapters.embeddingDir
	embeds, err := adapters.LoadEmbeddings(dir)
	if err != nil {
		if os.IsNotExist(err) && !o.set["embedding-dir"] {
			return nil
		}
		return usagef("--embedding-dir %s: %v", dir, err)
	}
	a.embeds = embeds
	if err := adapters.CheckNames(a.uses, a.embeds, dir); err != nil {
		return usageError{err.Error()}
	}
	texts := []string{a.prompt}
	if o.negative.set {
		texts = append(texts, o.negative.value)
	}
	hashes, err := adapters.TIHashes(a.embeds, lora.FileShortHash, texts...)
	if err != nil {
		return usageError{err.Error()}
	}
	if hashes != "" {
		o.adapters.fields = append(o.adapters.fields, infotext.Field{Key: adapters.FieldTIHashes, Value: hashes})
	}
	return nil
}
