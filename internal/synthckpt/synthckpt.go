// Package synthckpt writes random-weight SDXL checkpoints of any
// configuration, for tests that must not depend on the one reference
// checkpoint: other widths, head counts, depths and storage dtypes. Every
// tensor sdxl.ExpectedTensors lists (the model's own layer structs) for the configuration is written
// under its canonical (single-file) name, so the real loader reads it
// without knowing it is synthetic.
//
// Values are chosen to keep a forward pass in range, not to draw anything:
// matrices and convolutions are normal with standard deviation 1/√fan-in
// (activations keep their scale layer after layer), norm scales are near 1,
// biases and other vectors small.
package synthckpt

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/gosdxl/gosdxl/sdxl"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/weights"
)

// Write creates path (which must not exist) holding a checkpoint of cfg
// with every tensor stored as dt (F32, F16 or BF16), drawn from seed.
func Write(path string, cfg weights.Config, dt tensor.DType, seed uint64) error {
	switch dt {
	case tensor.F32, tensor.F16, tensor.BF16:
	default:
		return fmt.Errorf("synthckpt: dtype %v is not a checkpoint float type", dt)
	}
	listing, err := sdxl.ExpectedTensors(cfg)
	if err != nil {
		return fmt.Errorf("synthckpt: %w", err)
	}
	// Optional tensors (biases) are written too, as real checkpoints have them.
	shapes := make(map[string]tensor.Shape, len(listing))
	names := make([]string, 0, len(listing))
	for n, e := range listing {
		shapes[n] = e.Shape
		names = append(names, n)
	}
	sort.Strings(names)

	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	offset := 0
	for _, n := range names {
		bytes := shapes[n].NumElements() * dt.Size()
		header[n] = entry{dt.String(), append([]int{}, shapes[n]...), [2]int{offset, offset + bytes}}
		offset += bytes
	}
	head, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(head)%8 != 0 {
		head = append(head, ' ')
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	binary.Write(w, binary.LittleEndian, uint64(len(head)))
	w.Write(head)
	// Each tensor draws from its own generator (seeded by its place in the
	// sorted listing), so tensors are made on every core and the file is
	// the same whatever the core count: a full-size checkpoint (3.5 G
	// values) takes seconds, not minutes.
	encoded := make([]chan []byte, len(names))
	for i := range encoded {
		encoded[i] = make(chan []byte, 1)
	}
	// At most inFlight tensors are held between drawing and writing.
	inFlight := make(chan struct{}, 2*runtime.NumCPU())
	work := make(chan int)
	go func() {
		for i := range names {
			inFlight <- struct{}{}
			work <- i
		}
		close(work)
	}()
	for range runtime.NumCPU() {
		go func() {
			for i := range work {
				encoded[i] <- randomTensor(names[i], shapes[names[i]], dt, seed, uint64(i))
			}
		}()
	}
	for i := range names {
		w.Write(<-encoded[i])
		<-inFlight
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// randomTensor is tensor name (the index-th of the listing) encoded as dt.
func randomTensor(name string, s tensor.Shape, dt tensor.DType, seed, index uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed+index))
	mean, std := values(name, s)
	vals := make([]float32, s.NumElements())
	for i := range vals {
		vals[i] = float32(mean + std*rng.NormFloat64())
	}
	return tensor.EncodeFloat32(dt, vals)
}

// values gives the mean and standard deviation for tensor name of shape s.
func values(name string, s tensor.Shape) (mean, std float64) {
	switch {
	case len(s) >= 2:
		fanIn := s.NumElements() / s[0]
		return 0, 1 / math.Sqrt(float64(fanIn))
	case strings.HasSuffix(name, ".weight") || strings.HasSuffix(name, "_scale"):
		return 1, 0.05 // norm scales (and a scalar logit scale)
	default:
		return 0, 0.02
	}
}
