// Package vocab embeds the CLIP byte-level BPE merge table
// (bpe_simple_vocab_16e6.txt.gz from openai/CLIP, unchanged; MIT licence, see
// LICENSE in this folder). Both SDXL text encoders use this one vocabulary.
package vocab

import _ "embed"

// MergesGz is the gzip-compressed merges file: a header line, then one
// "left right" merge per line, most frequent first.
//
//go:embed bpe_simple_vocab_16e6.txt.gz
var MergesGz []byte
