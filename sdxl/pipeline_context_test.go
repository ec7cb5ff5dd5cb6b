package sdxl

import (
	"context"
	"errors"
	"testing"
)

// TestGenerateStopsWithContext: a run whose Context ends stops after the
// step under way and returns the context's cause.
func TestGenerateStopsWithContext(t *testing.T) {
	m, _, _ := pipeFixture(t)
	stop := errors.New("stop here")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var steps []int
	_, err := m.Generate(Request{
		Prompt: "a cat", Width: 64, Height: 64, Steps: 10, CFGScale: 5, Sampler: "euler_a", Batch: 1,
		Context: ctx,
		OnStep: func(step, total int) {
			steps = append(steps, step)
			if step == 3 {
				cancel(stop)
			}
		},
	})
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want the context's cause", err)
	}
	if len(steps) != 3 {
		t.Errorf("steps run: %v, want 3", steps)
	}
}
