package prompt

// Sequence layout shared by both encoders.
const (
	// ContextLength is the number of positions each encoder reads.
	ContextLength = 77
	// ChunkTokens is the number of content tokens between BOS and EOS.
	ChunkTokens = ContextLength - 2
)

// chunkIDs lays out at most ChunkTokens content tokens as an encoder reads
// them: [BOS] + tokens + [EOS] + pad... (77 ids). Everything after the first
// EOS is the encoder's pad id.
func chunkIDs(tokens []int32, pad int32) []int32 {
	ids := make([]int32, 0, ContextLength)
	ids = append(ids, BOS)
	ids = append(ids, tokens...)
	ids = append(ids, EOS)
	for len(ids) < ContextLength {
		ids = append(ids, pad)
	}
	return ids
}

// truncatedIDs is diffusers' layout: the first ChunkTokens tokens only.
func truncatedIDs(tokens []int32, pad int32) []int32 {
	return chunkIDs(tokens[:min(len(tokens), ChunkTokens)], pad)
}

// Tokenized is a prompt as the two encoders read it: k chunks of 77 ids
// for each encoder (they differ only in padding, and in SyntaxNone by
// diffusers' "!" quirk of encoder 2) and the weight of every position.
type Tokenized struct {
	Pieces []Piece
	IDs1   [][]int32   // encoder 1 (CLIP ViT-L), [chunk][77]
	IDs2   [][]int32   // encoder 2 (OpenCLIP bigG), [chunk][77]
	Weight [][]float32 // [chunk][77]: 1 at BOS, EOS and padding
	// Truncated counts the content tokens dropped by SyntaxNone (diffusers
	// keeps 75); A1111 syntax never drops any.
	Truncated int
}

// Chunks is the number of 77-token chunks (at least 1).
func (p *Tokenized) Chunks() int { return len(p.IDs1) }

// Weighted reports whether any position has a weight other than 1, i.e.
// whether the encoder outputs need the emphasis step at all.
func (p *Tokenized) Weighted() bool {
	for _, c := range p.Weight {
		for _, w := range c {
			if w != 1 {
				return true
			}
		}
	}
	return false
}

// PadTo appends empty chunks ([BOS, EOS, pad...], weight 1) until there are
// n, so that a negative prompt lines up with a longer positive prompt.
func (p *Tokenized) PadTo(n int) {
	for p.Chunks() < n {
		p.IDs1 = append(p.IDs1, chunkIDs(nil, PadCLIPL))
		p.IDs2 = append(p.IDs2, chunkIDs(nil, PadBigG))
		p.Weight = append(p.Weight, unitWeights())
	}
}

// Tokenize parses and tokenizes text for both encoders.
//
// SyntaxNone reproduces diffusers: one chunk, truncated to 75 content tokens.
// SyntaxA1111 reproduces A1111's chunking without its comma back-tracking:
// each piece is tokenized on its own, tokens fill chunks of 75, a full chunk
// is closed when the next token arrives, BREAK closes the current chunk
// (even an empty one), and an empty prompt is one empty chunk.
func (t *Tokenizer) Tokenize(text string, syntax Syntax) (*Tokenized, error) {
	return t.TokenizeWith(text, syntax, nil)
}

// TokenizeWith is Tokenize with textual-inversion embeddings
// (A1111 syntax only): where a piece's tokens spell an embedding's name,
// the embedding's vector ids take their place, and, as in A1111, an
// embedding that does not fit in the current chunk starts the next one.
func (t *Tokenizer) TokenizeWith(text string, syntax Syntax, emb *EmbeddingSet) (*Tokenized, error) {
	if err := checkUTF8(text); err != nil {
		return nil, err
	}
	p := &Tokenized{Pieces: Parse(text, syntax)}
	if syntax == SyntaxNone {
		ids1, _ := t.Encode(text)
		ids2, _ := t.EncodeBangAsPad(text)
		p.IDs1 = [][]int32{truncatedIDs(ids1, PadCLIPL)}
		p.IDs2 = [][]int32{truncatedIDs(ids2, PadBigG)}
		p.Weight = [][]float32{unitWeights()}
		p.Truncated = max(0, len(ids1)-ChunkTokens)
		return p, nil
	}

	var tokens []int32
	var weights []float32
	closeChunk := func() {
		p.IDs1 = append(p.IDs1, chunkIDs(tokens, PadCLIPL))
		p.IDs2 = append(p.IDs2, chunkIDs(tokens, PadBigG))
		w := unitWeights()
		copy(w[1:], weights)
		p.Weight = append(p.Weight, w)
		tokens, weights = tokens[:0], weights[:0]
	}
	for _, piece := range p.Pieces {
		if piece.Break {
			closeChunk()
			continue
		}
		ids, _ := t.Encode(piece.Text)
		for i := 0; i < len(ids); {
			if e := emb.match(ids, i); e != nil {
				if len(tokens)+e.n > ChunkTokens {
					closeChunk()
				}
				for k := 0; k < e.n; k++ {
					tokens = append(tokens, e.first+int32(k))
					weights = append(weights, float32(piece.Weight))
				}
				i += len(e.ids)
				continue
			}
			if len(tokens) == ChunkTokens {
				closeChunk()
			}
			tokens = append(tokens, ids[i])
			weights = append(weights, float32(piece.Weight))
			i++
		}
	}
	if len(tokens) > 0 || p.Chunks() == 0 {
		closeChunk()
	}
	return p, nil
}

func unitWeights() []float32 {
	w := make([]float32, ContextLength)
	for i := range w {
		w[i] = 1
	}
	return w
}
