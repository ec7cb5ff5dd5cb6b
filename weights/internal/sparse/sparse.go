// Package sparse writes safetensors files that have a real header and no
// data: the file is truncated to its full size, so on file systems with
// sparse files a 7 GB checkpoint takes a few hundred KB and every tensor
// reads as zeros. Tests use it to check names, shapes and memory use at
// full scale, and to build deliberately broken files.
package sparse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Tensor is one header entry. DType is the safetensors spelling ("F16").
type Tensor struct {
	Name  string
	DType string
	Shape []int
}

// File is a safetensors file's metadata and tensors, in data order.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor
}

var dtypeSize = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
}

// Header returns the header bytes for f (compact JSON in tensor order,
// padded with spaces to a multiple of 8) and the size of the data section.
func Header(f File) ([]byte, int64, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if len(f.Metadata) > 0 {
		meta, err := json.Marshal(f.Metadata)
		if err != nil {
			return nil, 0, err
		}
		b.WriteString(`"__metadata__":`)
		b.Write(meta)
	}
	var offset int64
	for i, t := range f.Tensors {
		size, ok := dtypeSize[t.DType]
		if !ok {
			return nil, 0, fmt.Errorf("tensor %s: unknown dtype %q", t.Name, t.DType)
		}
		for _, d := range t.Shape {
			size *= int64(d)
		}
		if i > 0 || len(f.Metadata) > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		fmt.Fprintf(&b, `%s:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, name, t.DType, shape, offset, offset+size)
		offset += size
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), offset, nil
}

// Write creates path as a sparse safetensors file for f.
func Write(path string, f File) error {
	header, dataSize, err := Header(f)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	var length [8]byte
	for i := range length {
		length[i] = byte(uint64(len(header)) >> (8 * i))
	}
	_, err = out.Write(append(length[:], header...))
	if err == nil {
		err = out.Truncate(8 + int64(len(header)) + dataSize)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Manifest is a reference key manifest: files in order, each with its
// tensors in order, and (diffusers only) the small JSON files by path.
type Manifest struct {
	Files   []NamedFile
	Configs map[string]json.RawMessage
}

// NamedFile is one weights file of a manifest, by relative path.
type NamedFile struct {
	Name string
	File
}

// WriteAll writes every file of m under dir as sparse files, and every
// config JSON as is.
func (m Manifest) WriteAll(dir string) error {
	for _, f := range m.Files {
		if err := Write(filepath.Join(dir, f.Name), f.File); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(m.Configs))
	for n := range m.Configs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, m.Configs[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ReadManifest reads a manifest, keeping the order of files and tensors.
func ReadManifest(path string) (Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Configs: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	err = eachKey(dec, func(key string) error {
		switch key {
		case "files":
			return eachKey(dec, func(name string) error {
				f, err := readFile(dec)
				m.Files = append(m.Files, NamedFile{Name: name, File: f})
				return err
			})
		case "configs":
			return dec.Decode(&m.Configs)
		}
		var skip json.RawMessage
		return dec.Decode(&skip)
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

func readFile(dec *json.Decoder) (File, error) {
	var f File
	err := eachKey(dec, func(key string) error {
		switch key {
		case "__metadata__":
			return dec.Decode(&f.Metadata)
		case "tensors":
			return eachKey(dec, func(name string) error {
				var t struct {
					DType string `json:"dtype"`
					Shape []int  `json:"shape"`
				}
				err := dec.Decode(&t)
				f.Tensors = append(f.Tensors, Tensor{Name: name, DType: t.DType, Shape: t.Shape})
				return err
			})
		}
		var skip json.RawMessage
		return dec.Decode(&skip)
	})
	return f, err
}

// eachKey reads one JSON object from dec, calling fn for each key with the
// decoder positioned at the key's value, which fn must consume.
func eachKey(dec *json.Decoder, fn func(key string) error) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("expected a JSON object (%v)", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("expected an object key, got %v", tok)
		}
		if err := fn(key); err != nil {
			return fmt.Errorf("%s: %v", strconv.Quote(key), err)
		}
	}
	_, err := dec.Token()
	return err
}
