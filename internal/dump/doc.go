// Package dump writes a run's intermediate tensors as F32 safetensors
// files, for gen --dump and the tests that compare them with diffusers'.
// It knows nothing of the model: package sdxl names the tensors and hands
// them to an observer; Dir.Observe is one.
package dump
