package prompt

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Pad ids of the two SDXL tokenizers: encoder 1 (CLIP ViT-L) pads with
// <|endoftext|>, encoder 2 (OpenCLIP bigG) with "!" (id 0). No attention mask
// is used, so the padded positions' hidden states depend on this choice.
const (
	PadCLIPL int32 = EOS
	PadBigG  int32 = 0
)

// maxCachedWords bounds the BPE cache; it is cleared when full, which keeps
// memory flat for a long-running process fed arbitrary prompts.
const maxCachedWords = 1 << 16

// Tokenizer is CLIP's byte-level BPE tokenizer with the vocabulary embedded,
// reproducing transformers' slow CLIPTokenizer without ftfy. It is safe for
// concurrent use.
type Tokenizer struct {
	vocab *bpeVocab

	mu    sync.RWMutex
	cache map[string][]int32 // word -> ids
}

var (
	sharedTokenizer     *Tokenizer
	sharedTokenizerErr  error
	sharedTokenizerOnce sync.Once
)

// NewTokenizer returns the tokenizer, building the vocabulary from the
// embedded merges file on first use (tens of milliseconds) and sharing it
// afterwards.
func NewTokenizer() (*Tokenizer, error) {
	sharedTokenizerOnce.Do(func() {
		v, err := loadBPEVocab()
		if err != nil {
			sharedTokenizerErr = err
			return
		}
		sharedTokenizer = &Tokenizer{vocab: v, cache: map[string][]int32{}}
	})
	return sharedTokenizer, sharedTokenizerErr
}

// Encode returns the token ids of text without BOS, EOS, padding or
// truncation. Text that is not valid UTF-8 is rejected with an error naming
// the byte offset (transformers only ever sees decoded strings, so there is
// no behaviour to reproduce, and silently replacing bytes would hide a bug).
func (t *Tokenizer) Encode(text string) ([]int32, error) {
	if err := checkUTF8(text); err != nil {
		return nil, err
	}
	return t.encodeClean(text, nil), nil
}

// EncodeBangAsPad tokenizes like diffusers' tokenizer_2 (encoder 2): its pad
// token "!" is an added special token there, so every "!" in the text is cut
// out before BPE and becomes id 0 on its own ("wow!!" -> wow</w>, 0, 0 where
// Encode gives wow</w>, !!</w>). openai/open_clip do not do this; only the
// diffusers-compatible mode uses it.
func (t *Tokenizer) EncodeBangAsPad(text string) ([]int32, error) {
	if err := checkUTF8(text); err != nil {
		return nil, err
	}
	var ids []int32
	for i, part := range strings.Split(text, "!") {
		if i > 0 {
			ids = append(ids, PadBigG)
		}
		ids = t.encodeClean(part, ids)
	}
	return ids, nil
}

// Token returns the vocabulary string of id (byte-level characters, "</w>"
// marking a word end), or "" for an id outside the vocabulary.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.vocab.tokens) {
		return ""
	}
	return t.vocab.tokens[id]
}

func (t *Tokenizer) encodeClean(text string, ids []int32) []int32 {
	splitWords(cleanText(text),
		func(word string) { ids = append(ids, t.encodeWord(word)...) },
		func(id int32) { ids = append(ids, id) })
	return ids
}

// encodeWord is the cached BPE of one word; prompts repeat words a lot.
func (t *Tokenizer) encodeWord(word string) []int32 {
	t.mu.RLock()
	ids, ok := t.cache[word]
	t.mu.RUnlock()
	if ok {
		return ids
	}
	ids = t.vocab.encodeWord(word, nil)
	t.mu.Lock()
	if len(t.cache) >= maxCachedWords {
		clear(t.cache)
	}
	t.cache[word] = ids
	t.mu.Unlock()
	return ids
}

func checkUTF8(text string) error {
	if utf8.ValidString(text) {
		return nil
	}
	for i, r := range text {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(text[i:]); size == 1 {
				return fmt.Errorf("prompt is not valid UTF-8 (byte %d is 0x%02x)", i, text[i])
			}
		}
	}
	return fmt.Errorf("prompt is not valid UTF-8")
}
