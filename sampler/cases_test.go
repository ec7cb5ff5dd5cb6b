package sampler

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
)

// goldenCases is the part of tiny-sdxl-a-cases.json this package checks.
type goldenCases struct {
	Schedulers map[string]map[string]json.RawMessage `json:"schedulers"`
	Pipelines  []goldenPipeline                      `json:"pipelines"`
}

type goldenPipeline struct {
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`
	Sched         string    `json:"sched"`
	Steps         int       `json:"steps"`
	Strength      float64   `json:"strength"`
	Seed          uint64    `json:"seed"`
	StepTimesteps []float64 `json:"step_timesteps"`
	LatentsShape  []int     `json:"latents_shape"`
	RandomDraws   []struct {
		Index  int    `json:"index"`
		Name   string `json:"name"`
		Caller string `json:"caller"`
		Shape  []int  `json:"shape"`
	} `json:"random_draws"`
}

// goldenSchedule is one `schedulers.<name>.<N>` entry.
type goldenSchedule struct {
	Timesteps      []float64 `json:"timesteps"`
	TimestepsDType string    `json:"timesteps_dtype"`
	Sigmas         []float64 `json:"sigmas"`
	InitNoiseSigma float64   `json:"init_noise_sigma"`
	Order          int       `json:"order"`
}

var (
	casesOnce sync.Once
	cases     goldenCases
	casesErr  error
)

func loadCases(t *testing.T) *goldenCases {
	t.Helper()
	casesOnce.Do(func() {
		raw, err := os.ReadFile(tinyCasesPath)
		if err != nil {
			casesErr = err
			return
		}
		casesErr = json.Unmarshal(raw, &cases)
	})
	if casesErr != nil {
		t.Fatalf("%s: %v", tinyCasesPath, casesErr)
	}
	return &cases
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
