package lora

import "fmt"

// outShape is the size rows × cols of the module's ΔW, read from tensor
// shapes alone, so that a plan can be checked before anything is computed.
func (f *File) outShape(m *Module) (rows, cols int, err error) {
	dims := func(role string) (int, int) {
		s := f.Shape(m.Tensors[role])
		if len(s) < 2 {
			err = fmt.Errorf("tensor %q: shape %v, expected a matrix", m.Tensors[role], s)
			return 0, 0
		}
		return s[0], s.NumElements() / s[0]
	}
	product := func(a, b string) (int, int) {
		ar, ac := dims(a)
		br, bc := dims(b)
		if err == nil && ac != br {
			err = fmt.Errorf("%s (%d columns) and %s (%d rows) cannot be multiplied", m.Tensors[a], ac, m.Tensors[b], br)
		}
		return ar, bc
	}
	switch m.Kind {
	case KindLoRA:
		rows, cols = product("up", "down")
	case KindLoHa:
		rows, cols = product("w1a", "w1b")
		r2, c2 := product("w2a", "w2b")
		if err == nil && (r2 != rows || c2 != cols) {
			err = fmt.Errorf("hada_w1 is %d×%d and hada_w2 %d×%d: they must match", rows, cols, r2, c2)
		}
	case KindLoKr:
		factor := func(full, a, b string) (int, int) {
			if _, ok := m.Tensors[full]; ok {
				return dims(full)
			}
			return product(a, b)
		}
		r1, c1 := factor("w1", "w1a", "w1b")
		r2, c2 := factor("w2", "w2a", "w2b")
		rows, cols = r1*r2, c1*c2
	}
	if err != nil {
		return 0, 0, fmt.Errorf("module %q: %v", m.Key, err)
	}
	return rows, cols, nil
}
