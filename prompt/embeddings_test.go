package prompt

import (
	"strings"
	"testing"
)

// As in A1111, an embedding that does not fit in what is left of a chunk
// starts the next chunk instead of being split.
func TestEmbeddingStartsANewChunk(t *testing.T) {
	tok, err := NewTokenizer()
	if err != nil {
		t.Fatal(err)
	}
	set := &EmbeddingSet{}
	ids, _ := tok.Encode("badhands")
	set.Add("badhands", ids, 1<<20, 4)
	text := strings.Repeat("cat ", 73) + "badhands"
	p, err := tok.TokenizeWith(text, SyntaxA1111, set)
	if err != nil {
		t.Fatal(err)
	}
	if p.Chunks() != 2 {
		t.Fatalf("%d chunks, want 2", p.Chunks())
	}
	if p.IDs1[0][74] != EOS || p.IDs1[1][1] != 1<<20 || p.IDs1[1][4] != 1<<20+3 || p.IDs1[1][5] != EOS {
		t.Errorf("chunks %v / %v: want 73 cats then EOS, then the 4 vectors", p.IDs1[0], p.IDs1[1])
	}
}
