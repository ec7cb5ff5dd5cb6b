package sdxl

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// BenchmarkLoRAMergeFullSize merges a rank-32 random LoRA covering every
// UNet attention, feed-forward, projection and conv layer (as a kohya
// LoCon trained with conv_dim) into the full-size SDXL checkpoint (a
// sparse file made from its manifest) on the CPU, then unmerges it. It
// reports the time of each and the memory: resident anonymous memory
// before and after (the merged weights themselves), and the peak, whose
// excess over the end state is the merge's temporary memory.
//
// It needs about 12 GB of RAM and a minute or two: opt in with
// GOSDXL_LORA_BENCH=1.
func BenchmarkLoRAMergeFullSize(b *testing.B) {
	if os.Getenv("GOSDXL_LORA_BENCH") == "" {
		b.Skip("set GOSDXL_LORA_BENCH=1 to run (about 12 GB of RAM)")
	}
	dir := b.TempDir()
	ckpt := filepath.Join(dir, "sdxl.safetensors")
	if err := loratest.WriteSparseCheckpoint(refDir+"manifest-sdxl-sgm.json", ckpt); err != nil {
		b.Fatal(err)
	}
	m, err := LoadModel(ckpt, cpu.New())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	path := filepath.Join(dir, "rank32.safetensors")
	modules, bytes := writeRandomFullLoRA(b, m, path)
	f, err := lora.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.Logf("LoRA: %d modules, %.0f MB", modules, float64(bytes)/1e6)
	// What the merge must add to the heap: the merged weights, less the
	// heap copies it replaces (3×3 convs, repacked at load; other weights
	// alias the mapped file).
	largest, merged, replaced := 0, int64(0), int64(0)
	table := lora.KeyTable(mustExpected(b, m.cfg))
	for _, mod := range f.Modules {
		e, _ := m.src.Lookup(table[mod.Key].Canonical)
		n := e.Shape.NumElements()
		largest = max(largest, n)
		merged += int64(n * e.DType.Size())
		if len(e.Shape) == 4 && e.Shape[2]*e.Shape[3] > 1 {
			replaced += int64(n * e.DType.Size())
		}
	}
	uses := []lora.Use{{File: f, Name: "rank32", UNet: 0.8, Text: 0.8}}
	for i := 0; i < b.N; i++ {
		runtime.GC()
		anon0, file0 := rss(b)
		resetPeak(b)
		start := time.Now()
		if err := m.ApplyLoRAs(uses); err != nil {
			b.Fatal(err)
		}
		merge := time.Since(start)
		peak := peakRSS(b)
		anon1, file1 := rss(b)
		start = time.Now()
		if err := m.ApplyLoRAs(nil); err != nil {
			b.Fatal(err)
		}
		unmerge := time.Since(start)
		b.ReportMetric(merge.Seconds(), "merge-s")
		b.ReportMetric(unmerge.Seconds(), "unmerge-s")
		b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
		b.ReportMetric(float64(anon1-anon0)/1e6, "merged-anon-MB")
		b.ReportMetric(float64(peak-(anon1+file1))/1e6, "peak-over-end-MB")
		// Anonymous memory beyond the merged weights: temporaries the
		// garbage collector has not handed back to reuse.
		b.ReportMetric(float64(anon1-anon0-(merged-replaced))/1e6, "excess-anon-MB")
		b.Logf("anon %d → %d MiB, file %d → %d MiB, peak %d MiB; merged weights %d MiB replacing %d MiB of heap copies; largest layer %d params (%d MiB as float32)",
			anon0>>20, anon1>>20, file0>>20, file1>>20, peak>>20, merged>>20, replaced>>20, largest, (4*largest)>>20)
	}
}

// writeRandomFullLoRA writes a kohya LoRA of rank 32 with random fp16
// factors for every UNet weight in a transformer block or a convolution,
// streaming it to the file (it is hundreds of MB).
func writeRandomFullLoRA(b *testing.B, m *Model, path string) (modules int, bytes int64) {
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]entry{}
	var order []string
	add := func(name string, shape ...int) {
		n := int64(2)
		for _, d := range shape {
			n *= int64(d)
		}
		header[name] = entry{"F16", shape, [2]int64{bytes, bytes + n}}
		order = append(order, name)
		bytes += n
	}
	const rank = 32
	var keys []string
	table := lora.KeyTable(mustExpected(b, m.cfg))
	for k := range table {
		if strings.HasPrefix(k, "lora_unet_input_blocks_") || strings.HasPrefix(k, "lora_unet_middle_block_") ||
			strings.HasPrefix(k, "lora_unet_output_blocks_") || k == "lora_unet_out_2" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		e, _ := m.src.Lookup(table[k].Canonical)
		conv := len(e.Shape) == 4
		if !conv && !strings.Contains(k, "transformer_blocks") && !strings.Contains(k, "proj_in") && !strings.Contains(k, "proj_out") {
			continue // time-embedding projections of ResBlocks: no LoRA trains them
		}
		if conv {
			add(k+".lora_down.weight", rank, e.Shape[1], e.Shape[2], e.Shape[3])
			add(k+".lora_up.weight", e.Shape[0], rank, 1, 1)
		} else {
			add(k+".lora_down.weight", rank, e.Shape[1])
			add(k+".lora_up.weight", e.Shape[0], rank)
		}
		modules++
	}
	js, err := json.Marshal(header)
	if err != nil {
		b.Fatal(err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	out.Write(n[:])
	out.Write(js)
	x := uint32(12345)
	buf := make([]byte, 1<<20)
	for _, name := range order {
		size := header[name].Offsets[1] - header[name].Offsets[0]
		for size > 0 {
			chunk := buf[:min(int64(len(buf)), size)]
			for i := 0; i < len(chunk); i += 2 {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				binary.LittleEndian.PutUint16(chunk[i:], tensor.F32ToF16((float32(x)/4294967295*2-1)*0.05))
			}
			if _, err := out.Write(chunk); err != nil {
				b.Fatal(err)
			}
			size -= int64(len(chunk))
		}
	}
	return modules, bytes
}

// rss reads the process's resident anonymous and file-backed memory.
func rss(b *testing.B) (anon, file int64) {
	return statusKB(b, "RssAnon:") << 10, statusKB(b, "RssFile:") << 10
}

func peakRSS(b *testing.B) int64 { return statusKB(b, "VmHWM:") << 10 }

// resetPeak restarts VmHWM from the current RSS (Linux clear_refs 5).
func resetPeak(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
}

func statusKB(b *testing.B, field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
