// Package nn holds the layers of the SDXL models, written against
// tensor.Backend. Each layer is a struct whose weight fields carry
// `weight:"..."` tags for weights.Binder; its constructor fills them with
// tensor.Spec placeholders that declare the shapes it expects.
//
// Conventions shared by every Forward:
//   - activations are channels-last ([B,H,W,C] images, [B,T,C] sequences) and
//     keep the input's dtype;
//   - the output is freshly allocated with b.Alloc and owned by the caller;
//   - inputs are never freed, intermediates always are (the GPU backend
//     reuses freed memory, the CPU backend lets the garbage collector do it).
//
// Cross-attention can run in two steps: PrepareContext projects a context
// to its keys and values (a CrossKV the caller owns), ForwardKV reads them.
// A context that stays the same over many calls (a generation's text
// conditioning) is then projected once.
package nn
