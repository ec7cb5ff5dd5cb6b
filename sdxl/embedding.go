package sdxl

import (
	"fmt"
	"sort"

	"github.com/gosdxl/gosdxl/lora"
)

// EmbeddingSet is the textual-inversion embeddings the text encoders know:
// each one's name as token ids, and the ids standing for its vectors.
// Those ids are past the vocabulary (first, first+1, …); the encoders look
// them up in their Extra rows instead of the token table.
type EmbeddingSet struct {
	entries []embeddingEntry // longest name first, as A1111 matches them
}

type embeddingEntry struct {
	name  string
	ids   []int32 // the name as the tokenizer reads it
	first int32   // id of the first vector
	n     int
}

// match finds an embedding whose name's ids start at ids[i].
func (s *EmbeddingSet) match(ids []int32, i int) *embeddingEntry {
	if s == nil {
		return nil
	}
	for k := range s.entries {
		e := &s.entries[k]
		if len(e.ids) > len(ids)-i {
			continue
		}
		ok := true
		for j, id := range e.ids {
			if ids[i+j] != id {
				ok = false
				break
			}
		}
		if ok {
			return e
		}
	}
	return nil
}

// Used lists the embeddings a tokenized prompt contains, by name.
func (s *EmbeddingSet) Used(p *TokenizedPrompt) []string {
	if s == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, chunk := range p.IDs1 {
		for _, id := range chunk {
			for _, e := range s.entries {
				if id >= e.first && id < e.first+int32(e.n) && !seen[e.name] {
					seen[e.name] = true
					out = append(out, e.name)
				}
			}
		}
	}
	return out
}

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
	set := &EmbeddingSet{}
	var extra1, extra2 [][]float32
	names := map[string]bool{}
	for _, emb := range es {
		if names[emb.Name] {
			return fmt.Errorf("embedding %q given twice", emb.Name)
		}
		names[emb.Name] = true
		if len(emb.CLIPL) > ChunkTokens {
			return fmt.Errorf("embedding %s: %d vectors, more than a chunk's %d", emb.Path, len(emb.CLIPL), ChunkTokens)
		}
		if len(emb.CLIPL[0]) != w1 || len(emb.CLIPG[0]) != w2 {
			return fmt.Errorf("embedding %s: vectors of width %d (clip_l) and %d (clip_g), the text encoders take %d and %d",
				emb.Path, len(emb.CLIPL[0]), len(emb.CLIPG[0]), w1, w2)
		}
		ids, _ := e.Tokenizer.Encode(emb.Name)
		if len(ids) == 0 {
			return fmt.Errorf("embedding %s: the name %q has no tokens", emb.Path, emb.Name)
		}
		set.entries = append(set.entries, embeddingEntry{name: emb.Name, ids: ids, first: first + int32(len(extra1)), n: len(emb.CLIPL)})
		extra1 = append(extra1, emb.CLIPL...)
		extra2 = append(extra2, emb.CLIPG...)
	}
	sort.SliceStable(set.entries, func(i, j int) bool { return len(set.entries[i].ids) > len(set.entries[j].ids) })
	e.Embeddings, e.CLIPL.Extra, e.BigG.Extra = set, extra1, extra2
	return nil
}

// UsedEmbeddings returns the embeddings that texts (prompts in A1111
// syntax) use, in the order of es.
func UsedEmbeddings(es []*lora.Embedding, texts ...string) ([]*lora.Embedding, error) {
	if len(es) == 0 {
		return nil, nil
	}
	tok, err := NewTokenizer()
	if err != nil {
		return nil, err
	}
	set := &EmbeddingSet{}
	const past = 1 << 24 // ids no vocabulary reaches
	for i, e := range es {
		ids, _ := tok.Encode(e.Name)
		set.entries = append(set.entries, embeddingEntry{name: e.Name, ids: ids, first: past + int32(i)*ChunkTokens, n: len(e.CLIPL)})
	}
	sort.SliceStable(set.entries, func(i, j int) bool { return len(set.entries[i].ids) > len(set.entries[j].ids) })
	used := map[string]bool{}
	for _, text := range texts {
		p, err := tok.TokenizePromptWith(text, SyntaxA1111, set)
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
