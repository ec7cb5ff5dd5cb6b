package prompt

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"

	"github.com/gosdxl/gosdxl/prompt/vocab"
)

// CLIP's vocabulary layout, fixed by openai/CLIP's simple_tokenizer.py and
// shared by both SDXL text encoders.
const (
	VocabSize = 49408
	// BOS (<|startoftext|>) opens and EOS (<|endoftext|>) closes every sequence.
	BOS int32 = 49406
	EOS int32 = 49407

	numMerges   = 49152 - 256 - 2 // merge lines used from the file: 48 894
	endOfWord   = "</w>"
	firstMerged = 512 // ids 0..255: bytes, 256..511: bytes + </w>, then merges
)

// bpeVocab is the byte-level BPE model: the 49 408 token strings and the
// merge ranks, with every symbol held as its vocabulary id.
type bpeVocab struct {
	tokens []string         // id -> token string (byte-level characters)
	byteID [256]int32       // byte -> id of its single-character token
	ranks  map[uint64]int32 // (left id, right id) -> merge rank
	merged []int32          // merge rank -> id of the joined token
}

// bytesToUnicode lists, for each byte in CLIP's vocabulary order, the
// printable character standing for it: printable Latin-1 bytes map to
// themselves, the others to U+0100 onwards. The order defines ids 0..255.
func bytesToUnicode() (order []byte, char [256]rune) {
	printable := func(b int) bool {
		return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
	}
	for b := 0; b < 256; b++ {
		if printable(b) {
			order = append(order, byte(b))
			char[b] = rune(b)
		}
	}
	n := 0
	for b := 0; b < 256; b++ {
		if !printable(b) {
			order = append(order, byte(b))
			char[b] = rune(256 + n)
			n++
		}
	}
	return order, char
}

// loadBPEVocab builds the vocabulary from the embedded merges file exactly as
// openai/CLIP does: bytes, bytes + </w>, one token per merge, BOS, EOS.
func loadBPEVocab() (*bpeVocab, error) {
	zr, err := gzip.NewReader(bytes.NewReader(vocab.MergesGz))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: embedded vocabulary: %w", err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1024), 1<<20)

	v := &bpeVocab{ranks: make(map[uint64]int32, numMerges), merged: make([]int32, 0, numMerges)}
	order, char := bytesToUnicode()
	for _, b := range order {
		v.byteID[b] = int32(len(v.tokens))
		v.tokens = append(v.tokens, string(char[b]))
	}
	for _, b := range order {
		v.tokens = append(v.tokens, string(char[b])+endOfWord)
	}
	ids := make(map[string]int32, VocabSize)
	for i, t := range v.tokens {
		ids[t] = int32(i)
	}

	line := 0
	for sc.Scan() && len(v.merged) < numMerges {
		line++
		if line == 1 {
			continue // "#version: 0.2" header
		}
		left, right, ok := strings.Cut(sc.Text(), " ")
		li, lok := ids[left]
		ri, rok := ids[right]
		if !ok || !lok || !rok {
			return nil, fmt.Errorf("tokenizer: embedded vocabulary: bad merge on line %d: %q", line, sc.Text())
		}
		id := int32(len(v.tokens))
		v.tokens = append(v.tokens, left+right)
		ids[left+right] = id
		v.ranks[pairKey(li, ri)] = int32(len(v.merged))
		v.merged = append(v.merged, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: embedded vocabulary: %w", err)
	}
	if len(v.merged) != numMerges {
		return nil, fmt.Errorf("tokenizer: embedded vocabulary has %d merges, want %d", len(v.merged), numMerges)
	}
	v.tokens = append(v.tokens, "<|startoftext|>", "<|endoftext|>")
	if len(v.tokens) != VocabSize || ids[v.tokens[firstMerged]] != firstMerged {
		return nil, fmt.Errorf("tokenizer: embedded vocabulary has %d tokens, want %d", len(v.tokens), VocabSize)
	}
	return v, nil
}

func pairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// encodeWord runs BPE on one pre-tokenized word: its UTF-8 bytes become
// byte-level symbols (the last one carrying </w>), then the lowest-ranked
// adjacent pair is merged everywhere, left to right, until no pair has a rank.
func (v *bpeVocab) encodeWord(word string, out []int32) []int32 {
	syms := make([]int32, len(word))
	for i := 0; i < len(word); i++ {
		syms[i] = v.byteID[word[i]]
	}
	syms[len(syms)-1] += 256 // the </w> twin of the last byte
	for len(syms) > 1 {
		best, bestRank := -1, int32(-1)
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := v.ranks[pairKey(syms[i], syms[i+1])]; ok && (best < 0 || r < bestRank) {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		left, right, joined := syms[best], syms[best+1], v.merged[bestRank]
		w := best
		for r := best; r < len(syms); {
			if r+1 < len(syms) && syms[r] == left && syms[r+1] == right {
				syms[w] = joined
				r += 2
			} else {
				syms[w] = syms[r]
				r++
			}
			w++
		}
		syms = syms[:w]
	}
	return append(out, syms...)
}
