package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/sdxl"
)

// Default folders for adapters, beside the default checkpoint folder
// convention (A1111 keeps models/Lora and embeddings/).
const (
	defaultLoRADir      = "models/lora"
	defaultEmbeddingDir = "models/embeddings"
)

// Infotext fields A1111 writes for adapters.
const (
	fieldLoraHashes = "Lora hashes"
	fieldTIHashes   = "TI hashes"
)

// adapterOptions are the LoRA and embedding flags.
type adapterOptions struct {
	loras        loraFlags
	loraDir      string
	embeddingDir string
	fields       []sdxl.Field // Lora hashes, TI hashes: for the PNG
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

// adapters is what the flags and the prompt's tags resolved to.
type adapters struct {
	prompt string // the prompt without its <lora:…> tags, as the encoders read it
	uses   []lora.Use
	embeds []*lora.Embedding
}

// close unmaps every opened file.
func (a *adapters) close() {
	for _, u := range a.uses {
		u.File.Close()
	}
}

// prepareAdapters resolves --lora flags and <lora:…> tags (checking names,
// strengths and files before any model is loaded) and the embeddings the
// prompts use. Each --lora is recorded in the PNG as the tag it stands for,
// appended to the prompt as A1111 does for its default LoRA, so that
// --from (with the file in --lora-dir) reproduces the image.
func prepareAdapters(o *options) (*adapters, error) {
	a := &adapters{}
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
	recorded := recordedHashes(o)
	a.prompt = clean
	seen := map[string]bool{}
	var hashes []string
	for _, t := range tags {
		if seen[t.Name] {
			a.close()
			return nil, usagef("-p: LoRA %q is used twice (merge it once, with one strength)", t.Name)
		}
		seen[t.Name] = true
		path, ok := explicit[t.Name]
		if !ok {
			if path, err = lora.Find(o.adapters.loraDir, t.Name, "LoRA"); err != nil {
				a.close()
				return nil, usagef("-p <lora:%s>: %v (--lora-dir %s)", t.Name, err, o.adapters.loraDir)
			}
		}
		f, err := lora.Open(path)
		if err != nil {
			a.close()
			return nil, usagef("LoRA %s: %v", t.Name, err)
		}
		a.uses = append(a.uses, lora.Use{File: f, Name: t.Name, UNet: t.UNet, Text: t.Text})
		if len(f.Unknown) > 0 {
			fmt.Fprintf(stderr, "gen: warning: LoRA %s: %d tensors are not part of any LoRA/LoHa/LoKr module and are ignored: %s\n",
				t.Name, len(f.Unknown), strings.Join(f.Unknown, ", "))
		}
		h, err := lora.ShortHash(path)
		if err != nil {
			a.close()
			return nil, usagef("LoRA %s: %v", t.Name, err)
		}
		hashes = append(hashes, infotextName(t.Name)+": "+h)
		if want, ok := recorded[infotextName(t.Name)]; ok && want != h {
			fmt.Fprintf(stderr, "gen: warning: LoRA %s has hash %s, the image was made with %s: the result will differ\n", t.Name, h, want)
		}
	}
	if len(hashes) > 0 {
		o.adapters.fields = append(o.adapters.fields, sdxl.Field{Key: fieldLoraHashes, Value: strings.Join(hashes, ", ")})
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
	v, _ := p.Get(fieldLoraHashes)
	for _, item := range strings.Split(v, ",") {
		if name, h, ok := strings.Cut(strings.TrimSpace(item), ": "); ok {
			out[name] = h
		}
	}
	return out
}

// infotextName is A1111's alias cleaning: no colons or commas.
func infotextName(s string) string { return strings.NewReplacer(":", "", ",", "").Replace(s) }

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
func (a *adapters) apply(model *sdxl.Model, w io.Writer, quiet bool) error {
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
func (a *adapters) prepareEmbeddings(o *options) error {
	dir := o.adapters.embeddingDir
	names, err := lora.List(dir)
	if err != nil {
		if os.IsNotExist(err) && !o.set["embedding-dir"] {
			return nil
		}
		return usagef("--embedding-dir %s: %v", dir, err)
	}
	for _, n := range names {
		e, err := lora.OpenEmbedding(filepath.Join(dir, n+".safetensors"))
		if err != nil {
			return usagef("--embedding-dir: %v", err)
		}
		a.embeds = append(a.embeds, e)
	}
	for _, u := range a.uses {
		for _, e := range a.embeds {
			if e.Name == u.Name {
				return usagef("%q is both a LoRA and an embedding in %s: rename one of them", u.Name, dir)
			}
		}
	}
	texts := []string{a.prompt}
	if o.negative.set {
		texts = append(texts, o.negative.value)
	}
	used, err := sdxl.UsedEmbeddings(a.embeds, texts...)
	if err != nil || len(used) == 0 {
		return err
	}
	var hashes []string
	for _, e := range used {
		h, err := lora.FileShortHash(e.Path)
		if err != nil {
			return usagef("embedding %s: %v", e.Name, err)
		}
		hashes = append(hashes, infotextName(e.Name)+": "+h)
	}
	o.adapters.fields = append(o.adapters.fields, sdxl.Field{Key: fieldTIHashes, Value: strings.Join(hashes, ", ")})
	return nil
}
