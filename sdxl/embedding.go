package sdxl

import (
	"fmt"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/prompt"
)

// SetEmbeddings installs embeddings in the text encoders, replacing any
// installed before (none: plain prompts). Widths are checked against the
// encoders; an embedding longer than a chunk (75 vectors) is refused.
func (m *Model) SetEmbeddings(es []*lora.Embedding) error {
	return m.text.SetEmbeddings(es)
}

// SetEmbeddings is Model.SetEmbeddings on the encoders alone.
func (e *TextEncoders) SetEmbeddings(es []*lora.Embedding) error {
	if len(es) == 0 {
		e.Embeddings, e.CLIPL.Extra, e.BigG.Extra = nil, nil, nil
		return nil
	}
	w1, w2 := e.CLIPL.TokenEmbedding.Shape()[1], e.BigG.TokenEmbedding.Shape()[1]
	first := int32(e.CLIPL.TokenEmbedding.Shape()[0])
	if int(first) != e.BigG.TokenEmbedding.Shape()[0] {
		return fmt.Errorf("embeddings need both text encoders to share a vocabulary (%d and %d tokens)", first, e.BigG.TokenEmbedding.Shape()[0])
	}
	set := &prompt.EmbeddingSet{}
	var extra1, extra2 [][]float32
	names := map[string]bool{}
	for _, emb := range es {
		if names[emb.Name] {
			return fmt.Errorf("embedding %q given twice", emb.Name)
		}
		names[emb.Name] = true
		if len(emb.CLIPL) > prompt.ChunkTokens {
			return fmt.Errorf("embedding %s: %d vectors, more than a chunk's %d", emb.Path, len(emb.CLIPL), prompt.ChunkTokens)
		}
		if len(emb.CLIPL[0]) != w1 || len(emb.CLIPG[0]) != w2 {
			return fmt.Errorf("embedding %s: vectors of width %d (clip_l) and %d (clip_g), the text encoders take %d and %d",
				emb.Path, len(emb.CLIPL[0]), len(emb.CLIPG[0]), w1, w2)
		}
		ids, _ := e.Tokenizer.Encode(emb.Name)
		if len(ids) == 0 {
			return fmt.Errorf("embedding %s: the name %q has no tokens", emb.Path, emb.Name)
		}
		set.Add(emb.Name, ids, first+int32(len(extra1)), len(emb.CLIPL))
		extra1 = append(extra1, emb.CLIPL...)
		extra2 = append(extra2, emb.CLIPG...)
	}
	e.Embeddings, e.CLIPL.Extra, e.BigG.Extra = set, extra1, extra2
	return nil
}

// UsedEmbeddings returns the embeddings that texts (prompts in A1111
// syntax) use, in the order of es.
func UsedEmbeddings(es []*lora.Embedding, texts ...string) ([]*lora.Embedding, error) {
	if len(es) == 0 {
		return nil, nil
	}
	tok, err := prompt.NewTokenizer()
	if err != nil {
		return nil, err
	}
	set := &prompt.EmbeddingSet{}
	const past = 1 << 24 // ids no vocabulary reaches
	for i, e := range es {
		ids, _ := tok.Encode(e.Name)
		set.Add(e.Name, ids, past+int32(i)*prompt.ChunkTokens, len(e.CLIPL))
	}
	used := map[string]bool{}
	for _, text := range texts {
		p, err := tok.TokenizeWith(text, prompt.SyntaxA1111, set)
		if err != nil {
			return nil, err
		}
		for _, n := range set.Used(p) {
			used[n] = true
		}
	}
	var out []*lora.Embedding
	for _, e := range es {
		if used[e.Name] {
			out = append(out, e)
		}
	}
	return out, nil
}
