package main

import (
	"os"
	"strings"
)

// preflight checks, after the flags' values, everything on disk the run
// will need, so that a bad path fails in milliseconds rather than after a
// model load and a generation: the output folder and name, the --dump
// folder, and the model path's kind.
func (o *options) preflight() error {
	if err := o.checkOutput(); err != nil {
		return err
	}
	if o.dump != "" {
		if st, err := os.Stat(o.dump); err == nil && !st.IsDir() {
			return usagef("%s %s: not a folder", o.flagName("dump"), o.dump)
		}
		if err := checkWritableDir(o.dump); err != nil {
			return usagef("%s %s: %v", o.flagName("dump"), o.dump, err)
		}
	}
	if _, err := os.Stat(o.model); err == nil {
		return checkModelPath(o)
	} else if !os.IsNotExist(err) {
		return usagef("%s %s: %v", o.flagName("model"), o.model, err)
	}
	if o.model != defaultModel || o.set["model"] {
		if _, err := os.Stat(o.model + ".gz"); err == nil {
			return usagef("%s %s: no such file, but %s.gz is there: gunzip it first (gunzip -k %s.gz)",
				o.flagName("model"), o.model, o.model, o.model)
		}
		return usagef("%s %s: no such file or folder", o.flagName("model"), o.model)
	}
	return nil // the default checkpoint: ensureModel downloads it
}

// checkModelPath refuses model paths that are not a checkpoint file or a
// diffusers folder: devices, pipes, and compressed files.
func checkModelPath(o *options) error {
	st, err := os.Stat(o.model)
	if err != nil {
		return usagef("%s %s: %v", o.flagName("model"), o.model, err)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return usagef("%s %s: not a regular file or folder", o.flagName("model"), o.model)
	}
	if strings.HasSuffix(strings.ToLower(o.model), ".gz") {
		return usagef("%s %s: a gzip-compressed file; gunzip it first (gunzip -k %s) and pass the .safetensors file",
			o.flagName("model"), o.model, o.model)
	}
	return nil
}
