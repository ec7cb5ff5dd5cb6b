package sdxl

import (
	"github.com/gosdxl/gosdxl/lora"
)

// ApplyLoRAs makes uses the model's merged adapters: the previous set is
// taken out (the checkpoint's own bytes restored) and the new one merged,
// on the backend that holds the weights, one tensor at a time. With an
// empty list the model is the checkpoint as loaded. On error the model is
// unchanged when the problem was found while checking (names, shapes,
// strengths), or restored to the plain checkpoint otherwise.
func (m *Model) ApplyLoRAs(uses []lora.Use) error {
	if len(uses) == 0 && m.merger == nil {
		return nil
	}
	if m.merger == nil {
		want, err := ExpectedTensors(m.cfg)
		if err != nil {
			return err
		}
		m.merger = lora.NewMerger(lora.Weights{Backend: m.backend, Source: m.src, Tensors: want, Slots: m.slots})
	}
	return m.merger.Apply(uses)
}

// LoRAs lists the adapters merged now.
func (m *Model) LoRAs() []lora.Use {
	if m.merger == nil {
		return nil
	}
	return m.merger.Active()
}
