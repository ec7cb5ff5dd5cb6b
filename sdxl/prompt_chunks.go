package sdxl

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
