package weights

import "strings"

// DiffusersTarget says where one diffusers tensor lives in the canonical
// checkpoint: the canonical tensor, and for tensors fused into one (HF CLIP
// q, k, v becoming OpenCLIP's in_proj) which row block of how many.
type DiffusersTarget struct {
	Canonical string
	Block     int // row block index within Canonical, 0 when not fused
	Blocks    int // number of equal row blocks Canonical is made of (1: the whole tensor)
	// Transformed is set when the canonical tensor is not the diffusers one
	// row for row (a transposed projection, a Linear stored as a 1×1 conv):
	// adapters cannot target such tensors.
	Transformed bool
}

// DiffusersNames maps every diffusers tensor name of a model that declares
// the canonical tensors want (see Expected), spelt "component/name" ("unet/down_blocks.0.…weight",
// "text_encoder_2/text_model.encoder.layers.0.self_attn.q_proj.weight"),
// to its canonical tensor. It is read off the same table that opens
// diffusers folders, so adapters in diffusers naming land exactly where the
// folder's tensors would.
func DiffusersNames(want Expected) map[string]DiffusersTarget {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	out := map[string]DiffusersTarget{}
	for _, row := range diffusersTable(canonicalTopology(names)) {
		if _, declared := want[row.canonical]; !declared {
			continue // a conv_shortcut where widths agree, a bias-free projection's bias
		}
		for i, k := range row.from {
			out[k.String()] = DiffusersTarget{
				Canonical:   row.canonical,
				Block:       i,
				Blocks:      len(row.from),
				Transformed: row.op == transpose || row.op == linearToConv,
			}
		}
	}
	return out
}

// SplitDiffusersName splits "component/name" into its two parts.
func SplitDiffusersName(s string) (component, name string) {
	component, name, _ = strings.Cut(s, "/")
	return component, name
}
