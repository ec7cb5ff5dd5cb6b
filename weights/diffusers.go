package weights

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// diffusersComponents are the subfolders of a diffusers SDXL pipeline that
// hold weights, in the order they are opened.
var diffusersComponents = []string{"unet", "text_encoder", "text_encoder_2", "vae"}

// openDiffusers opens a diffusers folder and renames its tensors through the
// diffusers table. Stored tensors the table does not know stay visible under
// "component/name", so that they are reported as unused rather than lost.
func openDiffusers(dir string) (*Checkpoint, error) {
	c := &Checkpoint{path: dir, layout: LayoutDiffusers, entries: map[string]Entry{}, stats: Stats{DTypes: map[string]int{}}}
	stored := map[string]*mappedFile{}
	for _, comp := range diffusersComponents {
		file, err := componentFile(filepath.Join(dir, comp))
		if err != nil {
			c.Close()
			return nil, err
		}
		if file == "" {
			continue
		}
		mf, err := openMapped(file)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.files = append(c.files, mf)
		stored[comp] = mf
		c.stats.Tensors += mf.stats.Tensors
		c.stats.Bytes += mf.stats.Bytes
		for dt, n := range mf.stats.DTypes {
			c.stats.DTypes[dt] += n
		}
	}
	if len(stored) == 0 {
		hint := ""
		if files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors")); len(files) > 0 {
			hint = fmt.Sprintf(" (to open a single-file checkpoint, name the file: %s)", baseNames(files))
		}
		return nil, fmt.Errorf("%s: not a diffusers folder: none of the subfolders %s holds a .safetensors file%s",
			dir, strings.Join(diffusersComponents, "/, ")+"/", hint)
	}
	if err := c.addMapped(stored); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	c.sortNames()
	return c, nil
}

// addMapped fills c.entries from the stored tensors of each component.
func (c *Checkpoint) addMapped(stored map[string]*mappedFile) error {
	used := map[diffusersKey]bool{}
	for _, m := range diffusersTable(diffusersTopology(stored)) {
		ts, ok := lookupAll(stored, m.from)
		if !ok {
			continue // absent here: reported as a missing canonical tensor
		}
		e, err := m.op.apply(m.from, ts)
		if err != nil {
			return err
		}
		if _, dup := c.entries[m.canonical]; dup {
			return fmt.Errorf("two diffusers tensors map to %s", m.canonical)
		}
		c.entries[m.canonical] = e
		for _, k := range m.from {
			used[k] = true
		}
	}
	for comp, mf := range stored {
		for _, name := range mf.order {
			if k := (diffusersKey{comp, name}); !used[k] {
				c.entries[k.String()] = storedEntry(mf.tensors[name])
			}
		}
	}
	return nil
}

func lookupAll(stored map[string]*mappedFile, keys []diffusersKey) ([]storedTensor, bool) {
	ts := make([]storedTensor, len(keys))
	for i, k := range keys {
		mf := stored[k.component]
		if mf == nil {
			return nil, false
		}
		t, ok := mf.tensors[k.name]
		if !ok {
			return nil, false
		}
		ts[i] = t
	}
	return ts, true
}

// diffusersTopology counts blocks and layers in the stored names.
func diffusersTopology(stored map[string]*mappedFile) topology {
	names := func(comp string) []string {
		if mf := stored[comp]; mf != nil {
			return mf.order
		}
		return nil
	}
	vae := names("vae")
	return topology{
		unet:         diffusersUNetBlocks(names("unet")),
		te1Layers:    countIndexed(names("text_encoder"), "text_model.encoder.layers."),
		te2Layers:    countIndexed(names("text_encoder_2"), "text_model.encoder.layers."),
		vaeLevels:    countIndexed(vae, "encoder.down_blocks."),
		vaeResBlocks: countIndexed(vae, "encoder.down_blocks.0.resnets."),
	}
}

// diffusersUNetBlocks numbers a diffusers UNet's blocks the SGM way: SGM
// numbers its blocks in execution order, so each resnet (with its
// attention) takes the next number, a downsampler takes one of its own, and
// an upsampler joins its level's last block, after the attention when the
// level has one.
func diffusersUNetBlocks(unet []string) unetBlocks {
	has := make(map[string]bool, len(unet))
	for _, n := range unet {
		has[n] = true
	}
	side := func(prefix, sampler string, next int) []unetLevel {
		var levels []unetLevel
		for i := 0; i < countIndexed(unet, prefix); i++ {
			b := prefix + itoa(i) + "."
			lvl := unetLevel{sampler: -1, depth: countIndexed(unet, b+"attentions.0.transformer_blocks.")}
			for range countIndexed(unet, b+"resnets.") {
				lvl.blocks = append(lvl.blocks, next)
				next++
			}
			switch {
			case !has[b+sampler+".weight"]:
			case prefix == "down_blocks.":
				lvl.sampler, lvl.samplerSlot = next, ".0.op"
				next++
			case lvl.depth > 0:
				lvl.sampler, lvl.samplerSlot = next-1, ".2.conv"
			default:
				lvl.sampler, lvl.samplerSlot = next-1, ".1.conv"
			}
			levels = append(levels, lvl)
		}
		return levels
	}
	return unetBlocks{
		down:     side("down_blocks.", "downsamplers.0.conv", 1), // 0 is conv_in
		up:       side("up_blocks.", "upsamplers.0.conv", 0),
		midDepth: countIndexed(unet, "mid_block.attentions.0.transformer_blocks."),
	}
}

// componentFile picks the weights file of one component folder: the only
// .safetensors file, or the fp16 variant when both variants exist. It
// returns "" when the folder does not exist.
func componentFile(dir string) (string, error) {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "", nil
	}
	all, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if err != nil {
		return "", err
	}
	var fp16 []string
	for _, f := range all {
		if strings.HasSuffix(f, ".fp16.safetensors") {
			fp16 = append(fp16, f)
		}
	}
	sort.Strings(all)
	switch {
	case len(all) == 1:
		return all[0], nil
	case len(fp16) == 1 && len(all) == 2:
		return fp16[0], nil
	case len(all) > 1:
		return "", fmt.Errorf("%s: several weight files (%s); sharded or mixed folders are not supported", dir, baseNames(all))
	}
	if idx, _ := filepath.Glob(filepath.Join(dir, "*.safetensors.index.json")); len(idx) > 0 {
		return "", fmt.Errorf("%s: sharded weights (%s) are not supported", dir, baseNames(idx))
	}
	if bins, _ := filepath.Glob(filepath.Join(dir, "*.bin")); len(bins) > 0 {
		return "", fmt.Errorf("%s: only PyTorch pickle weights (%s); gosdxl reads .safetensors only", dir, baseNames(bins))
	}
	return "", fmt.Errorf("%s: no .safetensors weights file", dir)
}

func baseNames(paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return strings.Join(names, ", ")
}
