package sdxl

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/gosdxl/gosdxl/internal/loratest"
	"github.com/gosdxl/gosdxl/internal/refdata"
	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/prompt"
	"github.com/gosdxl/gosdxl/tensor"
	"github.com/gosdxl/gosdxl/tensor/cpu"
)

// writeEmbedding stores an SDXL embedding of n random vectors per encoder
// as dir/name.safetensors and returns the vectors as float64.
func writeEmbedding(t *testing.T, dir, name string, n, w1, w2 int) (string, *loratest.File) {
	t.Helper()
	r := rand.New(rand.NewSource(int64(n)))
	f := &loratest.File{Tensors: map[string]*loratest.Tensor{
		"clip_l": loratest.Random(r, "F32", 0.5, n, w1),
		"clip_g": loratest.Random(r, "F32", 0.5, n, w2),
	}}
	path := filepath.Join(dir, name+".safetensors")
	if err := loratest.Write(path, f, nil); err != nil {
		t.Fatal(err)
	}
	return path, f
}

// encoderInput runs only the embedding step of a text encoder (no layers):
// token rows, or embedding vectors, plus position rows.
func encoderInput(b tensor.Backend, table, pos *tensor.Tensor, extra [][]float32, ids [][]int32) []float32 {
	x, _ := runTextTransformer(b, tensor.F32, table, pos, extra, nil, 1, ids, false)
	return b.ToFloat32(x)
}

// An embedding's vectors replace exactly the tokens of its name, in both
// encoders, and nothing else: checked against the input computed in
// float64 from the checkpoint's rows and the file's vectors.
func TestEmbeddingReplacesItsTokens(t *testing.T) {
	b := cpu.New()
	m, err := LoadModel(refdata.TinyCheckpoint(t), b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ck, _ := tinyParsed(t)
	enc := m.text
	w1, w2 := enc.CLIPL.TokenEmbedding.Shape()[1], enc.BigG.TokenEmbedding.Shape()[1]
	dir := t.TempDir()
	const name = "badhands"
	nameIDs, _ := enc.Tokenizer.Encode(name)
	for _, n := range []int{len(nameIDs), 3} {
		path, file := writeEmbedding(t, dir, name, n, w1, w2)
		e, err := lora.OpenEmbedding(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetEmbeddings([]*lora.Embedding{e}); err != nil {
			t.Fatal(err)
		}
		const text = "1girl, (badhands:1.2), smile"
		withE, err := enc.Tokenizer.TokenizeWith(text, prompt.SyntaxA1111, enc.Embeddings)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := enc.Tokenizer.Tokenize(text, prompt.SyntaxA1111)
		// Where the name's ids start in the plain prompt.
		at := -1
		for i := 1; i+len(nameIDs) <= prompt.ContextLength; i++ {
			if equalIDs(plain.IDs1[0][i:i+len(nameIDs)], nameIDs) {
				at = i
				break
			}
		}
		if at < 0 {
			t.Fatalf("the name's ids %v are not in the plain prompt %v", nameIDs, plain.IDs1[0])
		}
		for k := 0; k < n; k++ {
			if w := withE.Weight[0][at+k]; math.Abs(float64(w)-1.2) > 1e-6 {
				t.Errorf("vector %d has weight %v, want the emphasis 1.2", k, w)
			}
		}
		for _, enc2 := range []struct {
			name            string
			table, posTable string
			ids, plainIDs   [][]int32
			extra           [][]float32
			tokT, posT      *tensor.Tensor
			vectors         *loratest.Tensor
		}{
			{"clip_l", t1 + "embeddings.token_embedding.weight", t1 + "embeddings.position_embedding.weight",
				withE.IDs1, plain.IDs1, enc.CLIPL.Extra, enc.CLIPL.TokenEmbedding, enc.CLIPL.PositionEmbedding, file.Tensors["clip_l"]},
			{"clip_g", t2 + "token_embedding.weight", t2 + "positional_embedding",
				withE.IDs2, plain.IDs2, enc.BigG.Extra, enc.BigG.TokenEmbedding, enc.BigG.PositionEmbedding, file.Tensors["clip_g"]},
		} {
			tok, pos := ck.Tensors[enc2.table], ck.Tensors[enc2.posTable]
			width := tok.Shape[1]
			got := encoderInput(b, enc2.tokT, enc2.posT, enc2.extra, enc2.ids[:1])
			// The float64 input: the plain ids up to the name, the
			// vectors, then the plain ids after the name, shifted.
			var worst float64
			changed := 0
			for p := 0; p < prompt.ContextLength; p++ {
				var row []float64
				switch {
				case p < at:
					row = rowOf(tok, int(enc2.plainIDs[0][p]))
				case p < at+n:
					row = enc2.vectors.V[(p-at)*width : (p-at+1)*width]
					changed++
				default:
					src := p - n + len(nameIDs)
					id := enc2.plainIDs[0][prompt.ContextLength-1] // padding past the end
					if src < prompt.ContextLength {
						id = enc2.plainIDs[0][src]
					}
					row = rowOf(tok, int(id))
				}
				for c := 0; c < width; c++ {
					want := row[c] + pos.V[p*width+c]
					worst = max(worst, math.Abs(float64(got[p*width+c])-want))
				}
			}
			if worst > 1e-6 {
				t.Errorf("%s, %d vectors: encoder input differs from the float64 one by %g", enc2.name, n, worst)
			}
			if changed != n {
				t.Errorf("%s: %d positions hold vectors, want %d", enc2.name, changed, n)
			}
		}
	}
	if err := m.SetEmbeddings(nil); err != nil {
		t.Fatal(err)
	}
}

func rowOf(t *loratest.Tensor, id int) []float64 {
	w := t.Shape[1]
	return t.V[id*w : (id+1)*w]
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
