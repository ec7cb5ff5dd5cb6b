package adapters

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gosdxl/gosdxl/lora"
	"github.com/gosdxl/gosdxl/sdxl"
)

// LoadEmbeddings opens every embedding (NAME.safetensors) in dir. The
// error of a missing dir satisfies os.IsNotExist.
func LoadEmbeddings(dir string) ([]*lora.Embedding, error) {
	names, err := lora.List(dir)
	if err != nil {
		return nil, err
	}
	var out []*lora.Embedding
	for _, n := range names {
		e, err := lora.OpenEmbedding(filepath.Join(dir, n+".safetensors"))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// CheckNames refuses a LoRA that is also an embedding: the name in the
// prompt would mean both.
func CheckNames(uses []lora.Use, embeds []*lora.Embedding, dir string) error {
	for _, u := range uses {
		for _, e := range embeds {
			if e.Name == u.Name {
				return fmt.Errorf("%q is both a LoRA and an embedding in %s: rename one of them", u.Name, dir)
			}
		}
	}
	return nil
}

// TIHashes is the "TI hashes" value for the embeddings texts (prompts
// without their LoRA tags) use, "" for none; hash is lora.FileShortHash
// or a cache of it.
func TIHashes(embeds []*lora.Embedding, hash func(path string) (string, error), texts ...string) (string, error) {
	used, err := sdxl.UsedEmbeddings(embeds, texts...)
	if err != nil {
		return "", err
	}
	var hashes []string
	for _, e := range used {
		h, err := hash(e.Path)
		if err != nil {
			return "", fmt.Errorf("embedding %s: %v", e.Name, err)
		}
		hashes = append(hashes, InfotextName(e.Name)+": "+h)
	}
	return strings.Join(hashes, ", "), nil
}
