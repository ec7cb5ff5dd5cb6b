package kernels

// groupNormChunks splits the positions of one (image, group) among the
// blocks of groupnorm_stats (grid.y): per positions each, about 8k elements
// per block, and never more than the 65535 blocks grid.y allows, so that
// wide groups at a large resolution still fit. Every chunk is non-empty.
func groupNormChunks(positions, channelsPerGroup int) (per, chunks int) {
	per = max(1, ceilDiv(8192, channelsPerGroup), ceilDiv(positions, maxGridY))
	return per, max(1, ceilDiv(positions, per))
}
