package weights

import (
	"fmt"
	"sort"
)

// Report compares a checkpoint with the tensors its configuration needs.
// All three lists are sorted and never nil (they print as [] in JSON).
type Report struct {
	// Missing lists expected tensors the checkpoint lacks.
	Missing []string `json:"missing"`
	// Mismatched describes tensors present with another shape or a
	// non-float dtype, one "name: problem" line each.
	Mismatched []string `json:"mismatched"`
	// Unused lists tensors nothing expects, leaving out Ignorable ones.
	Unused []string `json:"unused"`
}

// OK reports whether the checkpoint has exactly what cfg needs.
func (r Report) OK() bool { return len(r.Missing)+len(r.Mismatched)+len(r.Unused) == 0 }

// CheckTensors compares src with want (a dry-run Bind's listing of the
// model the checkpoint is for) by name, shape and dtype, without reading
// any tensor data: the same judgement loading makes, before any upload.
func CheckTensors(src Source, want Expected) Report {
	r := Report{Missing: []string{}, Mismatched: []string{}, Unused: []string{}}
	for name, w := range want {
		e, ok := src.Lookup(name)
		switch {
		case !ok:
			if !w.Optional {
				r.Missing = append(r.Missing, name)
			}
		case !e.DType.IsFloat():
			r.Mismatched = append(r.Mismatched, fmt.Sprintf("%s: dtype %s, expected a float type", name, e.DType))
		case w.Shape != nil && !e.Shape.Equal(w.Shape):
			r.Mismatched = append(r.Mismatched, fmt.Sprintf("%s: shape %v in the file, expected %v", name, e.Shape, w.Shape))
		}
	}
	for _, name := range src.Names() {
		if _, ok := want[name]; !ok && !Ignorable(name) {
			r.Unused = append(r.Unused, name)
		}
	}
	sort.Strings(r.Missing)
	sort.Strings(r.Mismatched)
	sort.Strings(r.Unused)
	return r
}
