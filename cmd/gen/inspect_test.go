package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
)

func TestInspectTinyCheckpoint(t *testing.T) {
	var out bytes.Buffer
	if err := inspectCheckpoint(refdata.TinyCheckpoint(t), &out); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	keys := []string{}
	for k := range got {
		keys = append(keys, k)
	}
	if len(keys) != 8 {
		t.Errorf("keys %v, want layout, dtypes, tensors, bytes, config, missing, mismatched, unused", keys)
	}
	raw, _ := os.ReadFile("../../testdata/reference/expected-inspect.json")
	var expected map[string]any
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["config"], expected["tiny-sdxl-a"]) {
		t.Errorf("config %v, want %v", got["config"], expected["tiny-sdxl-a"])
	}
	// README: 956 tensors, all float16 except one int64.
	if got["layout"] != "sgm" || got["tensors"] != 956.0 || !reflect.DeepEqual(got["dtypes"], map[string]any{"F16": 955.0, "I64": 1.0}) {
		t.Errorf("layout %v, tensors %v, dtypes %v", got["layout"], got["tensors"], got["dtypes"])
	}
	for _, list := range []string{"missing", "mismatched", "unused"} {
		if v, ok := got[list].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %#v, want []", list, got[list])
		}
	}
}

func TestInspectUnusableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.safetensors")
	os.WriteFile(path, nil, 0o644)
	var out bytes.Buffer
	err := inspectCheckpoint(path, &out)
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
		t.Errorf("error %v, output %q: want a one-line error naming the file and no output", err, out.String())
	}
	if status := run([]string{"inspect", path}); status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
}

func TestInspectUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"-nosuchflag", "x"}} {
		var ue usageError
		if err := runInspect(args); !errors.As(err, &ue) {
			t.Errorf("runInspect(%q) = %v, want a usage error", args, err)
		}
	}
}
