package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosdxl/gosdxl/internal/adapters"
	"github.com/gosdxl/gosdxl/internal/infotext"
	"github.com/gosdxl/gosdxl/lora"
)

// adapterState is an Engine's LoRA and embedding folders and what of them
// the model holds now. The checkpoint stays loaded: a request with other
// LoRAs than the one before switches the merged set (ApplyLoRAs), one with
// the same set finds it in place.
type adapterState struct {
	loraDir, embeddingDir string
	log                   *slog.Logger
	loraHashes            adapters.HashCache
	tiHashes              adapters.HashCache
	merged                []lora.Use // the files ApplyLoRAs merged, kept open
	mergedKey             string     // names, files and strengths of merged
	embeds                []*lora.Embedding
	embedKey              string // the embedding folder's files when loaded; "" none yet
}

// UseAdapterDirs makes the engine resolve <lora:NAME:…> prompt tags in
// loraDir and know the embeddings in embeddingDir, as gen's --lora-dir and
// --embedding-dir do. A missing folder means no adapters; an embedding
// that cannot be used is skipped with a warning (listed as skipped by
// /sdapi/v1/embeddings) rather than failing every request.
func (e *Engine) UseAdapterDirs(loraDir, embeddingDir string, log *slog.Logger) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e.ad.loraDir, e.ad.embeddingDir, e.ad.log = loraDir, embeddingDir, log
	e.ad.loraHashes.Hash, e.ad.tiHashes.Hash = lora.ShortHash, lora.FileShortHash
	e.ad.embedKey = ""
}

// prepareAdapters puts into the model what spec's prompt asks for and
// returns the prompt the encoders read (without its tags) and the
// infotext fields ("Lora hashes", "TI hashes") gen would write.
func (e *Engine) prepareAdapters(spec *Spec) (string, []infotext.Field, error) {
	clean, tags, err := lora.ParseTags(spec.Prompt)
	if err != nil {
		return "", nil, errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
	}
	if len(tags) > 0 && e.ad.loraDir == "" {
		return "", nil, errorf(http.StatusUnprocessableEntity, "prompt: this server has no LoRA folder (--lora-dir)")
	}
	located, err := adapters.Locate(tags, e.ad.loraDir, nil)
	if err != nil {
		return "", nil, errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
	}
	if err := e.refreshEmbeddings(); err != nil {
		return "", nil, err
	}
	named := make([]lora.Use, len(located))
	for i, l := range located {
		named[i].Name = l.Tag.Name
	}
	if err := adapters.CheckNames(named, e.ad.embeds, e.ad.embeddingDir); err != nil {
		return "", nil, errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
	}
	if err := e.switchLoRAs(located); err != nil {
		return "", nil, err
	}
	var fields []infotext.Field
	if len(located) > 0 {
		h, err := adapters.Hashes(located, e.ad.loraHashes.Get)
		if err != nil {
			return "", nil, errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
		}
		fields = append(fields, infotext.Field{Key: adapters.FieldLoraHashes, Value: h})
	}
	if len(e.ad.embeds) > 0 {
		h, err := adapters.TIHashes(e.ad.embeds, e.ad.tiHashes.Get, clean, spec.Negative)
		if err != nil {
			return "", nil, errorf(http.StatusUnprocessableEntity, "%v", err)
		}
		if h != "" {
			fields = append(fields, infotext.Field{Key: adapters.FieldTIHashes, Value: h})
		}
	}
	return clean, fields, nil
}

// switchLoRAs merges the located LoRAs unless the model holds them
// already. A file that cannot be used is refused by name and the model
// keeps what it had.
func (e *Engine) switchLoRAs(located []adapters.Located) error {
	key, err := loraKey(located)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
	}
	if key == e.ad.mergedKey {
		return nil
	}
	uses, _, err := adapters.Open(located, e.ad.loraHashes.Get, func(w string) { e.ad.log.Warn(w) })
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "prompt: %v", err)
	}
	if err := e.model.ApplyLoRAs(uses); err != nil {
		adapters.Close(uses)
		if len(e.model.LoRAs()) == 0 && len(e.ad.merged) > 0 {
			// The merge failed past its checks: the model was restored to
			// the plain checkpoint, not to the previous set.
			adapters.Close(e.ad.merged)
			e.ad.merged, e.ad.mergedKey = nil, ""
		}
		return errorf(http.StatusUnprocessableEntity, "prompt: LoRA %s: %v", fileList(located), err)
	}
	adapters.Close(e.ad.merged)
	e.ad.merged, e.ad.mergedKey = uses, key
	return nil
}

// loraKey identifies a set of LoRAs: names, strengths, and each file's
// path, size and time (a file replaced in place is merged again).
func loraKey(located []adapters.Located) (string, error) {
	var b strings.Builder
	for _, l := range located {
		st, err := os.Stat(l.Path)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s\x00%s\x00%d\x00%d\x00%v\x00%v\n", l.Tag.Name, l.Path, st.Size(), st.ModTime().UnixNano(), l.Tag.Text, l.Tag.UNet)
	}
	return b.String(), nil
}

func fileList(located []adapters.Located) string {
	names := make([]string, len(located))
	for i, l := range located {
		names[i] = l.Path
	}
	return strings.Join(names, ", ")
}

// refreshEmbeddings (re)loads the embedding folder when its files changed
// since the last request, as A1111 rescans it before each generation.
func (e *Engine) refreshEmbeddings() error {
	key := folderKey(e.ad.embeddingDir)
	if key == e.ad.embedKey {
		return nil
	}
	var usable []*lora.Embedding
	names, _ := lora.List(e.ad.embeddingDir)
	for _, n := range names {
		emb, err := lora.OpenEmbedding(filepath.Join(e.ad.embeddingDir, n+".safetensors"))
		if err == nil {
			err = e.model.SetEmbeddings([]*lora.Embedding{emb}) // checks widths against the encoders
		}
		if err != nil {
			e.ad.log.Warn("embedding skipped", "name", n, "err", err)
			continue
		}
		usable = append(usable, emb)
	}
	if err := e.model.SetEmbeddings(usable); err != nil {
		e.model.SetEmbeddings(nil)
		e.ad.embeds, e.ad.embedKey = nil, ""
		return errorf(http.StatusInternalServerError, "embeddings in %s: %v", e.ad.embeddingDir, err)
	}
	e.ad.embeds, e.ad.embedKey = usable, key
	return nil
}

// folderKey names the .safetensors files of dir with their sizes and
// times; "-" for an unreadable or missing dir.
func folderKey(dir string) string {
	if dir == "" {
		return "-"
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "-"
	}
	var b strings.Builder
	b.WriteString("+")
	for _, en := range entries {
		if !strings.HasSuffix(en.Name(), ".safetensors") || en.IsDir() {
			continue
		}
		if st, err := en.Info(); err == nil {
			fmt.Fprintf(&b, "%s\x00%d\x00%d\n", en.Name(), st.Size(), st.ModTime().UnixNano())
		}
	}
	return b.String()
}

// RequestStatus reports the HTTP status of an error that is the
// request's fault (an unknown LoRA, a bad LoRA file): a job failing with
// one is answered at once, never retried elsewhere.
func RequestStatus(err error) (int, bool) {
	var he *httpError
	if errors.As(err, &he) && he.status >= 400 && he.status < 500 {
		return he.status, true
	}
	return 0, false
}

// RequestError is an error answered with status (4xx), as a remote worker
// reported it.
func RequestError(status int, detail string) error { return &httpError{status: status, detail: detail} }
