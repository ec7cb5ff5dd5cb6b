package prompt

// EmbeddingSet is the textual-inversion embeddings a prompt may name: each
// one's name as token ids, and the ids standing for its vectors. Those ids
// are past the vocabulary (first, first+1, …); the text encoders look them
// up in their own extra rows instead of the token table. A nil set has no
// embeddings.
type EmbeddingSet struct {
	entries []embeddingEntry // longest name first, as A1111 matches them
}

type embeddingEntry struct {
	name  string
	ids   []int32 // the name as the tokenizer reads it
	first int32   // id of the first vector
	n     int
}

// Add declares an embedding: its name as the tokenizer reads it (ids, at
// least one) and its n vectors, given the ids first … first+n−1. Names are
// matched longest first; among names of one length, the first added wins.
func (s *EmbeddingSet) Add(name string, ids []int32, first int32, n int) {
	e := embeddingEntry{name: name, ids: ids, first: first, n: n}
	at := len(s.entries)
	for at > 0 && len(s.entries[at-1].ids) < len(ids) {
		at--
	}
	s.entries = append(s.entries, embeddingEntry{})
	copy(s.entries[at+1:], s.entries[at:])
	s.entries[at] = e
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
func (s *EmbeddingSet) Used(p *Tokenized) []string {
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
