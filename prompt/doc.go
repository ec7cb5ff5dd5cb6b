// Package prompt turns prompt text into the token ids SDXL's two text
// encoders read: the first step of the data flow, before package sdxl
// encodes them.
//
//   - syntax.go and a1111.go: how text is read (AUTOMATIC1111's attention
//     syntax: (text), [text], (text:w), escapes and BREAK; or verbatim).
//   - tokenizer.go, clean.go and bpe.go: CLIP's byte-level BPE, as
//     transformers' CLIPTokenizer, with the vocabulary embedded from vocab/.
//   - chunks.go: the pieces laid out as 77-token chunks per encoder, with
//     each position's weight; embeddings.go: textual-inversion names
//     replaced by the ids of their vectors.
//
// Nothing here needs a model or a backend, so a command line or a server
// can check prompts before any weights are loaded.
package prompt
