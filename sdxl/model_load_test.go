package sdxl

import (
	"testing"

	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// Loading reports every bound tensor, ending at the checkpoint's count
// less the tensors nothing binds (position_ids).
func TestLoadModelReportsProgress(t *testing.T) {
	var calls, last, total int
	m, err := LoadModelWith(refdata.TinyCheckpoint(t), cpu.New(), LoadOptions{Progress: func(done, n int) {
		if done != last+1 {
			t.Fatalf("progress %d after %d", done, last)
		}
		calls, last, total = calls+1, done, n
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if total != 956 || last < 950 || last > total {
		t.Errorf("progress ended at %d of %d, want about all of the tiny checkpoint's 956 tensors", last, total)
	}
}
