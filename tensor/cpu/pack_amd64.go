//go:build amd64

package cpu

import "golang.org/x/sys/cpu"

// hasF16C enables the assembly packing of fp16 weights.
var hasF16C = hasAVX2FMA && cpu.X86.HasF16C

//go:noescape
func packF16PanelF16C(dst *float32, src *uint16, stride, kblocks int)

// packHalfPanelFast packs the first 8·⌊kcs/8⌋ depth values of a full panel
// of nr fp16 columns and reports how many it packed; the caller packs the
// rest. It packs nothing without F16C or for a partial panel.
func packHalfPanelFast(dst []float32, src []uint16, stride, cols, kcs int) int {
	kb := kcs / 8
	if !hasF16C || cols != nr || kb == 0 {
		return 0
	}
	// Bounds the assembly relies on.
	_ = dst[kb*8*nr-1]
	_ = src[(nr-1)*stride+kb*8-1]
	packF16PanelF16C(&dst[0], &src[0], stride, kb)
	return kb * 8
}
